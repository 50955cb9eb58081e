// Builds dist/frontline-widget.js: one self-contained file (the widget and the
// socket.io client), embeddable with one <script> tag. `npm run build`.
import { build } from "esbuild";
import { readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";

const outfile = "dist/frontline-widget.js";
const { version } = JSON.parse(readFileSync("package.json", "utf8"));

await build({
  entryPoints: ["src/index.ts"],
  outfile,
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2019", "chrome80", "firefox78", "safari15"],
  minify: true,
  sourcemap: "linked",
  legalComments: "eof",
  define: { __WIDGET_VERSION__: JSON.stringify(version) },
  logLevel: "warning",
});

const bytes = statSync(outfile).size;
const gzipped = gzipSync(readFileSync(outfile), { level: 9 }).length;
console.log(
  `${outfile}: ${(bytes / 1024).toFixed(1)} kB, ${(gzipped / 1024).toFixed(1)} kB gzipped`,
);
