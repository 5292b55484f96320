// Renders an SVG to PNG in Debian's Chromium through playwright-core (flags as in
// test/helpers/chromium.ts), to check a chart by eye: `node bench/soak/svg-to-png.mjs in.svg [out.png]`.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function svgToPng(svgPath, pngPath) {
  const svg = await readFile(svgPath, "utf8");
  const width = Number(/width="(\d+)"/.exec(svg)?.[1] ?? 960);
  const height = Number(/height="(\d+)"/.exec(svg)?.[1] ?? 800);
  const profile = await mkdtemp(join(tmpdir(), "duplexio-soak-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ARGS,
      timeout: 60_000,
      viewport: { width, height },
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
      await page.screenshot({ path: pngPath, clip: { x: 0, y: 0, width, height } });
    } finally {
      await context.close();
    }
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop())) {
  const [input, output = input.replace(/\.svg$/, ".png")] = process.argv.slice(2);
  await svgToPng(input, output);
  console.log(output);
}
