// Load one GGUF with the real llama.cpp (npm node-llama-cpp: the CPU build,
// or with gpuLayers the Vulkan build) and print llama.cpp's own log lines to
// stdout: its "buffer size" lines and the llama_context settings it really used.
// usage: node run_llama.mjs MODEL.gguf '{"ctxPerSeq":4096,"seqs":1,"batch":512,
//        "flashAttention":false,"typeK":"F16","typeV":"F16","swaFull":false[,"gpuLayers":N][,"mmap":true]}'
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, json] = process.argv.slice(2);
const o = JSON.parse(json ?? "{}");
const onGpu = o.gpuLayers !== undefined && o.gpuLayers !== null;
const lines = [];
const llama = await getLlama({
    gpu: onGpu ? "vulkan" : false,
    build: "never",
    usePrebuiltBinaries: true,
    // info carries every line `headroom check` reads; debug adds a line per
    // tensor, and a flood of lines is what loses some under load.
    logLevel: LlamaLogLevel.info,
    logger: (level, message) => { lines.push(String(message)); },
});
try {
    // node-llama-cpp would refuse a model larger than the device's reported
    // memory: the safety check is its own, not llama.cpp's
    const model = await llama.loadModel({modelPath, useMmap: o.mmap ?? false, gpuLayers: onGpu ? o.gpuLayers : 0,
                                         ignoreMemorySafetyChecks: true});
    // node-llama-cpp's contextSize is per sequence (llama.cpp gets size x sequences),
    // and batchSize sets both n_batch and n_ubatch.
    const ctx = await model.createContext({
        contextSize: o.ctxPerSeq,
        sequences: o.seqs ?? 1,
        batchSize: o.batch,
        flashAttention: o.flashAttention ?? false,
        experimentalKvCacheKeyType: o.typeK ?? "F16",
        experimentalKvCacheValueType: o.typeV ?? "F16",
        swaFullCache: o.swaFull ?? false,
        ignoreMemorySafetyChecks: true,
    });
    await ctx.dispose();
    await model.dispose();
} catch (e) {
    for (const l of lines) process.stdout.write(l.endsWith("\n") ? l : l + "\n");
    console.error("llama.cpp failed: " + e.message);
    process.exit(1);
}
for (const l of lines) process.stdout.write(l.endsWith("\n") ? l : l + "\n");
await llama.dispose();
