/**
 * Launches Debian's Chromium (/usr/bin/chromium) through playwright-core, headless, with a fresh
 * temporary profile that is deleted on close. Never downloads a browser.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Where Debian installs Chromium. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for a quiet, sandbox-free headless run that reaches no network but the test's. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A running browser with one page. */
export interface RunningChromium {
  context: BrowserContext;
  page: Page;
  /** Closes the browser and deletes its profile directory. */
  close(): Promise<void>;
}

/**
 * Starts Chromium with a fresh profile; `timeoutMs` bounds the launch; `extraArgs` are added to
 * {@link CHROMIUM_ARGS} (e.g. a certificate to trust). Navigate the page (the
 * init script that makes page.evaluate() work with tsx-compiled functions runs on navigation).
 */
export async function launchChromium(
  timeoutMs = 60000,
  extraArgs: readonly string[] = [],
): Promise<RunningChromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), "duplexio-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...extraArgs],
      timeout: timeoutMs,
    });
    // tsx compiles test files with esbuild's keepNames, which wraps named inner functions in
    // `__name(fn, "name")`; functions handed to page.evaluate() carry those calls into the page.
    await context.addInitScript({ content: "globalThis.__name = (fn) => fn;" });
    const page = context.pages()[0] ?? (await context.newPage());
    return {
      context,
      page,
      close: async () => {
        await context.close().catch(() => undefined);
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
}
