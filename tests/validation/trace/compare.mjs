// Compare the first reserve graph's allocations: ggml-alloc's (GA lines of
// the patched llama.cpp) against headroom's replay (TR lines of the traced
// build). Both list the fresh allocations (not in-place reuses) in graph
// order with size and offset; the inputs are left out (llama.cpp lists
// them as op NONE before the first node).
// usage: node compare.mjs LLAMA_STDERR HEADROOM_STDERR  -> one line; exit 1 on a difference
import {readFileSync} from "node:fs";

const [llamaLog, headroomLog] = process.argv.slice(2);
const real = [];
let started = false;
for (const line of readFileSync(llamaLog, "utf8").split("\n")) {
    if (!line.startsWith("GA alloc ")) continue;
    const f = line.split(" ");
    if (line.includes(" op NONE ")) {
        if (started) break; // the next graph's inputs
        continue;
    }
    started = true;
    const size = Number(f[f.indexOf("size") + 1]), off = Number(f[f.indexOf("off") + 1]);
    if (size > 0) real.push({size, off, name: f.slice(2, f.indexOf("op")).join(" ")});
}
const mine = [];
let last = -1;
for (const line of readFileSync(headroomLog, "utf8").split("\n")) {
    if (!line.startsWith("TR ")) continue;
    const f = line.split(" ");
    const node = Number(f[1]);
    if (node <= last) break; // the next replay
    last = node;
    if (line.includes("INPLACE")) continue;
    const size = Number(f[4]), off = Number(f[6]);
    if (size > 0) mine.push({size, off, node});
}
const n = Math.min(real.length, mine.length);
for (let i = 0; i < n; i++) {
    if (real[i].size !== mine[i].size || real[i].off !== mine[i].off) {
        console.log(`DIFFERENT at allocation ${i}: ggml ${real[i].name} ${real[i].size} B at ${real[i].off}, ` +
                    `headroom node ${mine[i].node} ${mine[i].size} B at ${mine[i].off}`);
        process.exit(1);
    }
}
if (real.length !== mine.length || n === 0) {
    console.log(`DIFFERENT: ${real.length} allocations in ggml, ${mine.length} in headroom`);
    process.exit(1);
}
console.log(`same: ${n} allocations at the same offsets`);
