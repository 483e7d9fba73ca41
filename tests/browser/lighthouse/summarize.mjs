// Reads Lighthouse JSON reports, prints each page's category scores and the audits that did not
// pass (with the elements they name), and exits 1 if any category scores below the minimum.
//
//     node summarize.mjs 0.95 home=out/home.report.json book=out/book.report.json ...
import { readFileSync } from "node:fs";

const [minimum, ...pages] = process.argv.slice(2);
const floor = Number(minimum);
let failed = false;

for (const page of pages) {
  const [name, file] = page.split("=");
  const report = JSON.parse(readFileSync(file, "utf8"));
  if (report.runtimeError) {
    console.log(`${name}: Lighthouse failed: ${report.runtimeError.code} ${report.runtimeError.message}`);
    failed = true;
    continue;
  }
  const scores = Object.values(report.categories).map((category) => {
    const low = category.score === null || category.score < floor;
    failed ||= low;
    return `${category.id} ${category.score === null ? "none" : category.score.toFixed(2)}${low ? " (below " + floor + ")" : ""}`;
  });
  console.log(`${name} ${report.finalDisplayedUrl}: ${scores.join(", ")}`);
  for (const category of Object.values(report.categories)) {
    for (const { id } of category.auditRefs) {
      const audit = report.audits[id];
      if (audit.score === null || audit.score >= 1 || audit.scoreDisplayMode === "informative") {
        continue;
      }
      console.log(`  ${category.id}: ${id} (${audit.score}): ${audit.title}`);
      for (const item of (audit.details?.items ?? []).slice(0, 5)) {
        const what = item.node?.snippet ?? item.url ?? item.source?.url ?? item.description ?? "";
        if (what) console.log(`      ${String(what).slice(0, 160)}`);
      }
    }
  }
}
process.exit(failed ? 1 : 0);
