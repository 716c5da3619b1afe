// Validation against a real llama.cpp: for every model shape and settings case,
// load a generated GGUF with llama.cpp (run_llama.mjs), then ask
// `headroom check MODEL LOG --json` to replan with the settings llama.cpp
// printed and compare per component. Prints a table; exits 1 when a case
// misses the accuracy targets of the plan issue.
// usage: node validate.mjs HEADROOM_BIN GEN_GGUF SOURCE_DIR WORK_DIR [--quick]
import {spawnSync} from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const [bin, gen, srcDir, work, ...flags] = process.argv.slice(2);
const quick = flags.includes("--quick");
const cfg = JSON.parse(fs.readFileSync(path.join(srcDir, "cases.json"), "utf8"));
fs.mkdirSync(work, {recursive: true});

// Targets (plan issue): weights and KV within 0.1%, output exact (llama.cpp
// prints MiB with 2 decimals), total within 3% on every case, median 0.5%.
const TARGET = {weights: 0.1, kv: 0.1, total: 3.0, median_total: 0.5, output_mib: 0.01};

function run(cmd, args, opts = {}) {
    const r = spawnSync(cmd, args, {encoding: "utf8", maxBuffer: 64 << 20, ...opts});
    return r;
}

const rows = [];
const failures = [];
let cases = cfg.cases;
if (quick) cases = cases.slice(0, 2);
for (const name of cfg.models) {
    const spec = path.join(srcDir, "models", name + ".yaml");
    const gguf = path.join(work, name + ".gguf");
    let g = run(gen, [spec, gguf]);
    if (g.status !== 0) {
        failures.push(`${name}: cannot generate GGUF: ${g.stderr.trim()}`);
        continue;
    }
    for (const c of cases) {
        const label = `${name} ctx=${c.ctx} np=${c.seqs} ub=${c.batch} fa=${c.fa ? "on" : "off"} kv=${c.k.toLowerCase()}/${c.v.toLowerCase()}`;
        const opts = {ctxPerSeq: Math.floor(c.ctx / c.seqs), seqs: c.seqs, batch: c.batch,
                      flashAttention: c.fa, typeK: c.k, typeV: c.v};
        const logPath = path.join(work, `${name}-${c.ctx}-${c.seqs}-${c.batch}-${c.fa ? 1 : 0}-${c.k}-${c.v}.log`);
        // A log that lacks a buffer line the plan expects lost it on the way
        // (node-llama-cpp's log relay, seen once under CI load): run again.
        let r, chk, missing = [];
        for (let attempt = 1; attempt <= 3; attempt++) {
            r = run(process.execPath, [path.join(srcDir, "run_llama.mjs"), gguf, JSON.stringify(opts)],
                    {timeout: 300000});
            fs.writeFileSync(logPath, (r.stdout || "") + (r.stderr || ""));
            if (r.status !== 0) break;
            chk = run(bin, ["check", gguf, logPath, "--json"]);
            if (chk.status !== 0) break;
            missing = JSON.parse(chk.stdout).rows.filter(x => x.actual_mib === null)
                .map(x => `${x.component}@${x.device}`);
            if (!missing.length) break;
            console.error(`${label}: log lacks ${missing.join(", ")} (attempt ${attempt})`);
        }
        if (r.status !== 0) {
            failures.push(`${label}: llama.cpp failed (log ${logPath}): ${(r.stderr || "").trim().split("\n").pop()}`);
            continue;
        }
        if (chk.status !== 0) {
            failures.push(`${label}: headroom check failed: ${chk.stderr.trim()}`);
            continue;
        }
        if (missing.length) {
            failures.push(`${label}: llama.cpp log lacks ${missing.join(", ")} after 3 runs (log ${logPath})`);
            continue;
        }
        const j = JSON.parse(chk.stdout);
        const comp = {};
        for (const x of j.components) comp[x.component] = x;
        comp.total = j.total;
        rows.push({label, comp});
        const pct = (k) => comp[k] && comp[k].error_percent !== null ? Math.abs(comp[k].error_percent) : 0;
        // llama.cpp prints MiB with 2 decimals: a small buffer (1.125 MiB of MLA
        // latents prints as 1.12) can miss 0.1% by print rounding alone.
        const printed = (k) => comp[k] && Math.abs(comp[k].error_mib) <= 0.005 + 1e-9;
        if (pct("weights") > TARGET.weights && !printed("weights")) failures.push(`${label}: weights off by ${pct("weights").toFixed(3)}%`);
        if (pct("kv") > TARGET.kv && !printed("kv")) failures.push(`${label}: KV off by ${pct("kv").toFixed(3)}%`);
        if (comp.output && Math.abs(comp.output.error_mib) > TARGET.output_mib)
            failures.push(`${label}: output off by ${comp.output.error_mib.toFixed(2)} MiB`);
        if (pct("total") > TARGET.total) failures.push(`${label}: total off by ${pct("total").toFixed(2)}%`);
    }
}

// MiB with 2 decimals as llama.cpp's printf("%.2f") writes them: an exact
// tie (1.125 MiB) goes to the even digit (1.12), where toFixed goes up (1.13)
// and a predicted figure equal to the printed one would look off by 0.01.
// Only MiB of a byte count (x * 2^20 whole) are tested for a tie: for them
// x * 100 is exact; for a parsed 2.675 it is not (toFixed is right there).
const fixed2 = (x) => {
    const y = x * 100;
    if (Number.isInteger(x * 1048576) && Number.isInteger(2 * y) && !Number.isInteger(y)) {
        const k = Math.floor(y);
        return ((k % 2 === 0 ? k : k + 1) / 100).toFixed(2);
    }
    return x.toFixed(2);
};
const fmt = (x) => x === undefined || x === null ? "-" : fixed2(x);
const head = "| model / settings | weights MiB (pred/real) | KV | output | compute | total | total err % |";
const lines = [head, "|---|---|---|---|---|---|---|"];
for (const r of rows) {
    const cell = (k) => r.comp[k] ? `${fmt(r.comp[k].predicted_mib)} / ${fmt(r.comp[k].actual_mib)}` : "-";
    const te = r.comp.total.error_percent;
    lines.push(`| ${r.label} | ${cell("weights")} | ${cell("kv")} | ${cell("output")} | ${cell("compute")} | ${cell("total")} | ${te === null ? "-" : te.toFixed(2)} |`);
}
const totals = rows.map(r => Math.abs(r.comp.total.error_percent ?? 0)).sort((a, b) => a - b);
const median = totals.length ? (totals.length % 2 ? totals[(totals.length - 1) / 2]
    : (totals[totals.length / 2 - 1] + totals[totals.length / 2]) / 2) : NaN;
const worst = totals.length ? totals[totals.length - 1] : NaN;
if (!(median <= TARGET.median_total)) failures.push(`median total error ${median.toFixed(3)}% > ${TARGET.median_total}%`);
const summary = `${rows.length} cases: median |total error| ${median.toFixed(3)}%, worst ${worst.toFixed(3)}%`;
console.log(lines.join("\n"));
console.log("\n" + summary);
fs.writeFileSync(path.join(work, "validation-table.md"), lines.join("\n") + "\n\n" + summary + "\n");
if (failures.length) {
    console.log(`\n${failures.length} failures:`);
    for (const f of failures) console.log("  " + f);
    process.exit(1);
}
console.log(`${rows.length} passed, 0 failed`);
