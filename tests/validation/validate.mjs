// Validation against a real llama.cpp: for every model shape and settings case,
// load a generated GGUF with llama.cpp (run_llama.mjs), then ask
// `headroom check MODEL LOG --json` to replan with the settings llama.cpp
// printed and compare per component. Prints a table; exits 1 when a case
// misses the accuracy targets of the plan issue.
//
// --gpu: the GPU grid of cases.json ("gpu"): llama.cpp's Vulkan build on a
// software Vulkan device (Mesa lavapipe) with 0, 1, half and all layers on
// it, so that the scheduler's placement, op offload and copies are real;
// compared per device. Vulkan's graph optimizer (a node reordering of that
// backend alone) is turned off, and the device's buffer alignment (16 bytes
// on lavapipe) replaces the Vulkan default of configs/runtimes.yaml (headroom
// check plans with the runtime of the log's GPU backend).
// usage: node validate.mjs HEADROOM_BIN GEN_GGUF SOURCE_DIR WORK_DIR [--quick] [--gpu]
// (VALIDATION_MODELS=name,name: other shapes of models/ than the grid's)
import {spawnSync} from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const [bin, gen, srcDir, work, ...flags] = process.argv.slice(2);
const quick = flags.includes("--quick");
const gpu = flags.includes("--gpu");
const cfg = JSON.parse(fs.readFileSync(path.join(srcDir, "cases.json"), "utf8"));
const grid = gpu ? cfg.gpu : cfg;
fs.mkdirSync(work, {recursive: true});

// Targets (plan issue): weights and KV within 0.1%, output exact (llama.cpp
// prints MiB with 2 decimals), total within 3% on every case, median 0.5%.
const TARGET = {weights: 0.1, kv: 0.1, total: 3.0, median_total: 0.5, output_mib: 0.01};

function run(cmd, args, opts = {}) {
    const r = spawnSync(cmd, args, {encoding: "utf8", maxBuffer: 64 << 20, ...opts});
    return r;
}

// GPU mode: llama.cpp sees only the lavapipe device, without the graph
// optimizer; headroom plans with lavapipe's alignment (a copy of the configs).
let llamaEnv = process.env, checkEnv = process.env;
if (gpu) {
    llamaEnv = {...process.env, GGML_VK_VISIBLE_DEVICES: "0", GGML_VK_DISABLE_GRAPH_OPTIMIZE: "1"};
    const from = process.env.HEADROOM_CONFIG_DIR, to = path.join(work, "config-lavapipe");
    fs.cpSync(from, to, {recursive: true});
    const rt = path.join(to, "runtimes.yaml");
    const text = fs.readFileSync(rt, "utf8");
    const patched = text.replace(/(\n  vulkan:[\s\S]*?device_alignment: )\d+/, "$116");
    if (patched === text) throw new Error(`${rt}: no vulkan device_alignment to set`);
    fs.writeFileSync(rt, patched);
    checkEnv = {...process.env, HEADROOM_CONFIG_DIR: to};
}

// the GPU layers of a grid entry: a count, "half" of the blocks, or "all"
// (the blocks and the output layer)
function gpuLayers(spec, n_layer) {
    if (spec === "all") return n_layer + 1;
    if (spec === "half") return Math.floor(n_layer / 2);
    return Number(spec);
}
function layersOf(specPath) {
    const m = /^layers:\s*(\d+)/m.exec(fs.readFileSync(specPath, "utf8"));
    if (!m) throw new Error(`${specPath}: no layers`);
    return Number(m[1]);
}

const rows = [];
const failures = [];
let cases = grid.cases;
if (quick) cases = cases.slice(0, 2);
// VALIDATION_MODELS=a,b (shapes of models/): run those instead of the grid's
const models = process.env.VALIDATION_MODELS ? process.env.VALIDATION_MODELS.split(",") : grid.models;
for (const name of models) {
    const spec = path.join(srcDir, "models", name + ".yaml");
    const gguf = path.join(work, name + ".gguf");
    let g = run(gen, [spec, gguf]);
    if (g.status !== 0) {
        failures.push(`${name}: cannot generate GGUF: ${g.stderr.trim()}`);
        continue;
    }
    const layerSettings = gpu ? grid.gpu_layers.map(x => gpuLayers(x, layersOf(spec))) : [undefined];
    for (const c of cases.filter(c => !(c.except ?? []).includes(name)))
    for (const ngl of [...new Set(layerSettings)]) {
        const label = `${name} ctx=${c.ctx} np=${c.seqs} ub=${c.batch} fa=${c.fa ? "on" : "off"} kv=${c.k.toLowerCase()}/${c.v.toLowerCase()}` +
            (c.mmap ? " mmap" : "") + (gpu ? ` ngl=${ngl}` : "");
        const opts = {ctxPerSeq: Math.floor(c.ctx / c.seqs), seqs: c.seqs, batch: c.batch,
                      flashAttention: c.fa, typeK: c.k, typeV: c.v, gpuLayers: ngl, mmap: c.mmap};
        const logPath = path.join(work, `${name}-${c.ctx}-${c.seqs}-${c.batch}-${c.fa ? 1 : 0}-${c.k}-${c.v}` +
            (c.mmap ? "-mmap" : "") + (gpu ? `-ngl${ngl}` : "") + ".log");
        // A log that lacks a buffer line the plan expects lost it on the way
        // (node-llama-cpp's log relay, seen once under CI load): run again.
        let r, chk, missing = [];
        for (let attempt = 1; attempt <= 3; attempt++) {
            r = run(process.execPath, [path.join(srcDir, "run_llama.mjs"), gguf, JSON.stringify(opts)],
                    {timeout: 300000, env: llamaEnv});
            fs.writeFileSync(logPath, (r.stdout || "") + (r.stderr || ""));
            if (r.status !== 0) break;
            chk = run(bin, ["check", gguf, logPath, "--json"], {env: checkEnv});
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
        // per device (GPU mode): "weights@host", "compute@Vulkan0" ...
        const dev = {};
        for (const x of j.rows) dev[`${x.component}@${x.device === "host" ? "host" : "gpu"}`] = x;
        rows.push({label, comp, dev});
        // the components checked: summed over devices, or each device's (GPU)
        const checked = gpu ? dev : comp;
        const pct = (x) => x.error_percent !== null ? Math.abs(x.error_percent) : 0;
        // llama.cpp prints MiB with 2 decimals: a small buffer (1.125 MiB of MLA
        // latents prints as 1.12) can miss 0.1% by print rounding alone, by up
        // to 0.005 MiB for each line summed into the figure (a recurrent
        // model's KV: the KV cache's line and the recurrent state's).
        const hostBuffer = (name) => name.startsWith("CPU") || name.includes("_Host");
        const lines = (component, where) => j.log.buffers.filter((b) => b.component === component &&
            (where === undefined || (where === "host") === hostBuffer(b.buffer))).length;
        const printed = (x, key) => Math.abs(x.error_mib) <=
            0.005 * Math.max(1, lines(x.component, gpu ? key.split("@")[1] : undefined)) + 1e-9;
        for (const [key, x] of Object.entries(checked)) {
            const what = gpu ? key : x.component;
            if (x.component === "weights" && pct(x) > TARGET.weights && !printed(x, key))
                failures.push(`${label}: ${what} off by ${pct(x).toFixed(3)}%`);
            if (x.component === "kv" && pct(x) > TARGET.kv && !printed(x, key))
                failures.push(`${label}: ${what} off by ${pct(x).toFixed(3)}%`);
            if (x.component === "output" && Math.abs(x.error_mib) > TARGET.output_mib)
                failures.push(`${label}: ${what} off by ${x.error_mib.toFixed(2)} MiB`);
        }
        if (pct(comp.total) > TARGET.total) failures.push(`${label}: total off by ${pct(comp.total).toFixed(2)}%`);
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
const cols = gpu ? ["weights@host", "weights@gpu", "kv@host", "kv@gpu", "output@host", "compute@host", "compute@gpu"]
                 : ["weights", "kv", "output", "compute"];
const names = gpu ? ["weights host", "weights GPU", "KV host", "KV GPU", "output", "compute host", "compute GPU"]
                  : ["weights", "KV", "output", "compute"];
const head = `| model / settings | ${names.join(" | ")} | total | total err % |`;
const lines = ["MiB, predicted / llama.cpp-printed.", "", head, "|---|" + "---|".repeat(cols.length + 2)];
let computeRows = 0, computeEqual = 0;
for (const r of rows) {
    const src = gpu ? r.dev : r.comp;
    const cell = (x) => x ? `${fmt(x.predicted_mib)} / ${fmt(x.actual_mib)}` : "-";
    for (const k of cols.filter(k => k.startsWith("compute") && src[k])) {
        computeRows++;
        if (fmt(src[k].predicted_mib) === fmt(src[k].actual_mib)) computeEqual++;
    }
    const te = r.comp.total.error_percent;
    lines.push(`| ${r.label} | ${cols.map(k => cell(src[k])).join(" | ")} | ${cell(r.comp.total)} | ${te === null ? "-" : te.toFixed(2)} |`);
}
const totals = rows.map(r => Math.abs(r.comp.total.error_percent ?? 0)).sort((a, b) => a - b);
const median = totals.length ? (totals.length % 2 ? totals[(totals.length - 1) / 2]
    : (totals[totals.length / 2 - 1] + totals[totals.length / 2]) / 2) : NaN;
const worst = totals.length ? totals[totals.length - 1] : NaN;
if (!(median <= TARGET.median_total)) failures.push(`median total error ${median.toFixed(3)}% > ${TARGET.median_total}%`);
const summary = `${rows.length} cases: median |total error| ${median.toFixed(3)}%, worst ${worst.toFixed(3)}%; ` +
    `compute buffers equal to the printed figure: ${computeEqual} of ${computeRows}`;
console.log(lines.join("\n"));
console.log("\n" + summary);
fs.writeFileSync(path.join(work, "validation-table.md"), lines.join("\n") + "\n\n" + summary + "\n");
if (failures.length) {
    console.log(`\n${failures.length} failures:`);
    for (const f of failures) console.log("  " + f);
    process.exit(1);
}
console.log(`${rows.length} passed, 0 failed`);
