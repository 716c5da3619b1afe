/* --help texts: one for the program, one per command. */
#include <string.h>

#include "cli_internal.h"

static const char settings_help[] =
    "Settings (llama.cpp's flags):\n"
    "  -c,   --ctx-size N        total context (0 = the model's training context)\n"
    "  -b,   --batch-size N      logical batch (2048)\n"
    "  -ub,  --ubatch-size N     physical batch (512)\n"
    "  -np,  --parallel N        parallel sequences (1)\n"
    "  -kvu, --kv-unified        one KV stream shared by all sequences\n"
    "  -fa,  --flash-attn on|off|auto\n"
    "  -ctk, --cache-type-k T    f32 f16 bf16 q8_0 q5_1 q5_0 q4_1 q4_0 iq4_nl (f16)\n"
    "  -ctv, --cache-type-v T\n"
    "  -ngl, --gpu-layers N|all  layers on the GPU (all)\n"
    "  -dev, --device cpu|gpu    run on the CPU only or offload to GPUs (gpu)\n"
    "  -ts,  --tensor-split A,B  GPU split ratios (default: by capacity)\n"
    "  -nkvo, --no-kv-offload    keep the KV cache on the host\n"
    "        --no-mmap           load weights into memory instead of mapping the file\n"
    "        --swa-full          full-size cache for sliding-window layers\n"
    "        --embeddings        embedding mode (no logits)\n"
    "        --quant FTYPE       plan the weights as if quantized to FTYPE (Q4_K_M ...)\n"
    "        --margin M          safety margin per device: 10%, 512MiB, 2GiB or 10%+512MiB\n"
    "        --runtime NAME      runtime overheads from runtimes.yaml (cpu, cuda, rocm, ...)\n";

static const char hardware_help[] =
    "Hardware:\n"
    "  --hardware SPEC           a catalog entry, e.g. \"RTX 4090\" or \"2x H100 SXM\"\n"
    "                            (default: this machine, detected)\n";

static const char hardware_file_help[] =
    "  --hardware-file F         more hardware: added to hardware.yaml, same names replace\n";

static const char scenario_help[] =
    "Scenarios:\n"
    "  --scenario F.yaml         start from a saved scenario (flags given here win)\n";

typedef struct command_help {
    const char *name;
    const char *usage;
    const char *about;
    const char *options; /* command-specific options */
    unsigned groups;
} command_help;

static const command_help helps[] = {
    {"inspect", "headroom inspect MODEL [--json] [--bytes]",
     "Describe a model: architecture, parameters, size, bits per weight, context length,\n"
     "layers, heads, head dim, vocabulary and tensor counts per type.",
     "  --json    the full description (every hyperparameter, layer and tensor)\n"
     "  --bytes   exact byte counts instead of MiB/GiB\n",
     0},
    {"plan", "headroom plan MODEL [settings] [--hardware H] [--json] [--bytes] [--save F.yaml]",
     "Predict the memory llama.cpp will allocate, per component and device: weights, KV\n"
     "cache, output, compute buffers, runtime overhead and margin, against each device's\n"
     "capacity.",
     "  --json        {memory, devices, resolved, model, settings}\n"
     "  --bytes       exact byte counts instead of MiB/GiB\n"
     "  --save F.yaml write the model, settings and hardware as a scenario\n",
     OPT_SETTINGS | OPT_HARDWARE | OPT_HARDWARE_FILE | OPT_SCENARIO},
    {"fit", "headroom fit MODEL [--hardware H] [settings] [--json]",
     "What fits the budget: largest context, largest batch, most GPU layers, best\n"
     "quantization, most parallel sequences and how many replicas.",
     "  --json    the answers as JSON (null where nothing fits)\n",
     OPT_SETTINGS | OPT_HARDWARE | OPT_HARDWARE_FILE | OPT_SCENARIO},
    {"compare", "headroom compare MODEL [--hardware-file F] [settings] [--json|--csv]",
     "One row per catalog entry: whether the model fits one device of it, the headroom\n"
     "left, the largest context, the best quantization and the price per GB where known.\n"
     "The cheapest fitting option comes first.",
     "  --json | --csv   machine-readable rows\n"
     "  --bytes          exact byte counts instead of MiB/GiB\n",
     OPT_SETTINGS | OPT_HARDWARE_FILE | OPT_SCENARIO},
    {"devices", "headroom devices [--json] [--bytes]",
     "Show the memory of this machine and its GPUs, with where each figure comes from.",
     "  --json    the detected system as JSON\n"
     "  --bytes   exact byte counts instead of MiB/GiB\n",
     0},
    {"check", "headroom check MODEL LOGFILE [settings] [--json] [--bytes]",
     "Compare the plan with a llama.cpp load log: read its 'buffer size' lines and the\n"
     "settings it printed, plan with those settings and show predicted against actual per\n"
     "component and device, with the error.",
     "  --json    rows of predicted and actual bytes with errors\n"
     "  --bytes   exact byte counts instead of MiB/GiB\n",
     OPT_SETTINGS | OPT_HARDWARE | OPT_HARDWARE_FILE | OPT_SCENARIO},
    {"workers",
     "headroom workers MODEL [--batch N] [--seq-len N] [--dtype T] [--device cpu|gpu]\n"
     "                      [--margin M] [--overhead SIZE] [--hardware H] [--json] [--bytes]",
     "A transformers-style plan (weights in the load dtype, KV cache, activations for\n"
     "batch x sequence, framework overhead, margin) and how many worker instances of it\n"
     "fit on one device: host RAM with --device cpu, the first GPU with --device gpu.\n"
     "For embedding servers and other processes that each load their own copy.",
     "  --batch N        sequences per forward pass (1)\n"
     "  --seq-len N      tokens per sequence (the model's training context)\n"
     "  --dtype T        load dtype: F32, F16, BF16 (the checkpoint's)\n"
     "  --device cpu|gpu where the workers run (cpu)\n"
     "  --margin M       10%, 512MiB or 10%+512MiB on top of each instance\n"
     "  --overhead SIZE  framework memory per instance, e.g. 400MiB (0: not counted)\n"
     "  --json           the plan and the count as JSON\n"
     "  --bytes          exact byte counts instead of MiB/GiB\n",
     OPT_HARDWARE | OPT_HARDWARE_FILE},
};

void cli_print_help(FILE *f)
{
    fprintf(f,
            "headroom %s - how much memory a model needs, and what fits\n"
            "\n"
            "Usage:\n"
            "  headroom [MODEL]              the interactive planner\n"
            "  headroom COMMAND [options]    scriptable commands:\n",
            hr_version());
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++)
        fprintf(f, "    %s\n", helps[i].usage);
    fprintf(f,
            "  headroom COMMAND --help       help for one command\n"
            "  headroom --version\n"
            "\n"
            "MODEL is a .gguf file (any shard of a split model), a safetensors file or\n"
            "directory, a config.json, or a preset name such as %s.\n"
            "Exit codes: 0 ok, 1 bad input (file or model errors), 2 usage errors.\n",
            HR_DEFAULT_PRESET);
}

bool cli_print_command_help(const char *command, FILE *f)
{
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        const command_help *h = &helps[i];
        if (strcmp(h->name, command) != 0)
            continue;
        fprintf(f, "Usage: %s\n\n%s\n\nOptions:\n%s", h->usage, h->about, h->options);
        if (h->groups & OPT_SETTINGS)
            fprintf(f, "\n%s", settings_help);
        if (h->groups & OPT_HARDWARE)
            fprintf(f, "\n%s", hardware_help);
        if (h->groups & OPT_HARDWARE_FILE)
            fprintf(f, "%s%s", h->groups & OPT_HARDWARE ? "" : "\nCatalog:\n",
                    hardware_file_help);
        if (h->groups & OPT_SCENARIO)
            fprintf(f, "\n%s", scenario_help);
        return true;
    }
    return false;
}
