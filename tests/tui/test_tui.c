/* The planner driven in tmux: open a preset, turn context, quantization and
 * margin with the arrow keys, check the figures on screen against
 * `headroom plan --json` for the same settings, resize, open a second model
 * through the opener, quit, and check the terminal came back sane (also
 * after SIGTERM). Skipped when tmux is not installed. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "test_util.h"

#define MODEL "llama-3.2-1b"
#define SECOND_MODEL "qwen2.5-0.5b"

typedef struct tmux_ctx {
    char tmux[512];
    char socket[64];
    char *dir;
    char *script;
    char *pidfile;
    bool started;
} tmux_ctx;

static bool find_in_path(const char *name, char *out, size_t len)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    char *copy = strdup(path);
    bool found = false;
    for (char *dir = strtok(copy, ":"); dir && !found; dir = strtok(NULL, ":")) {
        snprintf(out, len, "%s/%s", dir, name);
        found = access(out, X_OK) == 0;
    }
    free(copy);
    return found;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Run tmux on our socket with the given NULL-terminated arguments; returns
 * stdout. Output goes through a file, not a pipe: the tmux server that the
 * first call starts would otherwise keep a pipe open forever. */
static char *tmux(tmux_ctx *t, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = t->tmux;
    argv[argc++] = "-f";
    argv[argc++] = "/dev/null";
    argv[argc++] = "-L";
    argv[argc++] = t->socket;
    va_list ap;
    va_start(ap, t);
    for (char *a = va_arg(ap, char *); a && argc < 31; a = va_arg(ap, char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    char *out_path = tu_path(t->dir, "tmux.out");
    pid_t pid = fork();
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int err = open("/dev/null", O_WRONLY);
        if (in < 0 || out < 0 || err < 0)
            _exit(127);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    if (pid > 0)
        waitpid(pid, &status, 0);
    char *text = tu_read_file(out_path, NULL);
    free(out_path);
    return text ? text : strdup("");
}

static void keys(tmux_ctx *t, const char *key, int times)
{
    for (int i = 0; i < times; i++) {
        free(tmux(t, "send-keys", "-t", "hr", key, NULL));
        sleep_ms(60);
    }
}

static char *capture(tmux_ctx *t)
{
    return tmux(t, "capture-pane", "-p", "-t", "hr", NULL);
}

/* Poll the screen until it contains every needle; returns the capture. */
static char *wait_for(tmux_ctx *t, const char *needle, const char *needle2, int timeout_ms)
{
    char *screen = NULL;
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        free(screen);
        screen = capture(t);
        if (strstr(screen, needle) && (!needle2 || strstr(screen, needle2)))
            return screen;
        sleep_ms(100);
    }
    print_message("# screen after waiting for '%s':\n%s\n", needle, screen);
    return screen;
}

static int setup(void **state)
{
    tmux_ctx *t = calloc(1, sizeof *t);
    if (!find_in_path("tmux", t->tmux, sizeof t->tmux)) {
        free(t);
        *state = NULL;
        return 0;
    }
    t->dir = tu_make_temp_dir("tui");
    /* one tmux server per test: the temp dir's name makes the socket unique */
    const char *base = strrchr(t->dir, '/');
    snprintf(t->socket, sizeof t->socket, "hr-test-%ld-%s", (long)getpid(), base ? base + 1 : "x");
    t->script = tu_path(t->dir, "run.sh");
    t->pidfile = tu_path(t->dir, "headroom.pid");
    /* The planner runs in a child shell that records its pid; the outer
     * shell then reports the exit status and the terminal modes. */
    char text[4096];
    snprintf(text, sizeof text,
             "#!/bin/sh\n"
             "cd '%s'\n"
             "sh -c 'echo $$ > \"$1\"; shift; exec \"$@\"' sh '%s' '%s' \"$@\"\n"
             "echo \"HR-EXIT=$?\"\n"
             "stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo "
             "| tr '\\n' ' '\n"
             "echo; echo HR-DONE\n"
             "sleep 600\n",
             t->dir, t->pidfile, tu_headroom_bin());
    assert_int_equal(tu_write_text(t->script, text), 0);
    chmod(t->script, 0755);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tmux_ctx *t = *state;
    if (!t)
        return 0;
    free(tmux(t, "kill-server", NULL));
    tu_remove_tree(t->dir);
    free(t->dir);
    free(t->script);
    free(t->pidfile);
    free(t);
    return 0;
}

static void start(tmux_ctx *t, const char *model, int cols, int lines)
{
    char w[16], h[16], cfg[1100], cmd[1200], xdg[1100];
    snprintf(w, sizeof w, "%d", cols);
    snprintf(h, sizeof h, "%d", lines);
    const char *config = getenv("HEADROOM_CONFIG_DIR");
    snprintf(cfg, sizeof cfg, "HEADROOM_CONFIG_DIR=%s", config ? config : "");
    snprintf(cmd, sizeof cmd, "%s %s", t->script, model);
    /* the recent-models file goes under the test's own directory, never a real home */
    snprintf(xdg, sizeof xdg, "XDG_CONFIG_HOME=%s/config", t->dir);
    free(tmux(t, "new-session", "-d", "-s", "hr", "-x", w, "-y", h, "-e", "TERM=xterm-256color",
              "-e", cfg, "-e", "LANG=C.UTF-8", "-e", xdg, cmd, NULL));
    t->started = true;
}

/* ---------- reading the screen ---------- */

/* The first number after `label` on the line that contains it. */
static bool number_after(const char *screen, const char *label, double *out)
{
    const char *p = strstr(screen, label);
    if (!p)
        return false;
    p += strlen(label);
    while (*p && *p != '\n' && !isdigit((unsigned char)*p))
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    *out = strtod(p, NULL);
    return true;
}

/* The word (value) after a settings label: skips arrows and spaces. */
static bool word_after(const char *screen, const char *label, char *out, size_t len)
{
    const char *p = strstr(screen, label);
    if (!p)
        return false;
    p += strlen(label);
    while (*p && *p != '\n' && !isalnum((unsigned char)*p))
        p++;
    size_t n = 0;
    while (p[n] && (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '.' || p[n] == '%') &&
           n + 1 < len)
        n++;
    memcpy(out, p, n);
    out[n] = '\0';
    return n > 0;
}

/* "<label> <number> <unit>" where the number follows the label directly. */
static bool figure(const char *screen, const char *label, double *bytes, double *tolerance)
{
    for (const char *p = strstr(screen, label); p; p = strstr(p + 1, label)) {
        const char *q = p + strlen(label);
        if (!isdigit((unsigned char)*q))
            continue;
        char *end;
        double v = strtod(q, &end);
        const char *dot = memchr(q, '.', (size_t)(end - q));
        int decimals = dot ? (int)(end - dot - 1) : 0;
        while (*end == ' ')
            end++;
        double unit = 0;
        if (strncmp(end, "TiB", 3) == 0)
            unit = 1099511627776.0;
        else if (strncmp(end, "GiB", 3) == 0)
            unit = 1073741824.0;
        else if (strncmp(end, "MiB", 3) == 0)
            unit = 1048576.0;
        else if (strncmp(end, "KiB", 3) == 0)
            unit = 1024.0;
        else if (*end == 'B')
            unit = 1;
        if (unit == 0)
            continue;
        *bytes = v * unit;
        *tolerance = 0.5 * pow(10, -decimals) * unit + 1;
        return true;
    }
    return false;
}

/* memory.<name>_bytes of `headroom plan --json`. */
static double json_memory(const cJSON *root, const char *name)
{
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(root, "memory");
    char key[64];
    snprintf(key, sizeof key, "%s_bytes", name);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(mem, key);
    if (!cJSON_IsNumber(v)) {
        print_message("# plan JSON has no memory.%s\n", name);
        fail();
    }
    return v->valuedouble;
}

static void expect_close(const char *what, double shown, double tolerance, double exact)
{
    if (fabs(shown - exact) > tolerance) {
        print_message("# %s: screen %.0f bytes (+-%.0f), plan --json %.0f\n", what, shown,
                      tolerance, exact);
        fail();
    }
}

static void check_lines_fit(const char *screen, int cols)
{
    /* Count columns as code points: the planner draws no wide glyphs. */
    int col = 0;
    for (const unsigned char *p = (const unsigned char *)screen; *p; p++) {
        if (*p == '\n') {
            col = 0;
            continue;
        }
        if ((*p & 0xC0) != 0x80)
            col++;
        assert_true(col <= cols);
    }
}

static void quit_and_check(tmux_ctx *t, const char *expected_exit)
{
    char *screen = wait_for(t, "HR-DONE", NULL, 8000);
    if (!strstr(screen, expected_exit))
        print_message("# expected %s in:\n%s\n", expected_exit, screen);
    assert_non_null(strstr(screen, expected_exit));
    /* endwin ran: canonical mode and echo are back, the UI is gone */
    assert_non_null(strstr(screen, "icanon"));
    assert_null(strstr(screen, "-icanon"));
    assert_non_null(strstr(screen, "echo"));
    assert_null(strstr(screen, "-echo"));
    assert_null(strstr(screen, "Settings"));
    free(screen);
    char *alt = tmux(t, "display-message", "-p", "-t", "hr", "#{alternate_on}", NULL);
    assert_int_equal(atoi(alt), 0);
    free(alt);
}

/* ---------- tests ---------- */

static void test_planner_matches_plan_json(void **state)
{
    tmux_ctx *t = *state;
    if (!t)
        skip(); /* tmux is not installed */
    start(t, MODEL, 100, 30);
    char *screen = wait_for(t, "Settings", "total ", 10000);
    assert_non_null(strstr(screen, "Settings"));
    free(screen);

    /* context: the first row is selected; left twice and right once */
    keys(t, "Left", 2);
    keys(t, "Right", 1);
    /* quantization: four rows down, a few steps along the what-if list */
    keys(t, "Down", 4);
    keys(t, "Right", 6);
    /* margin: four more rows down, two 5% steps */
    keys(t, "Down", 4);
    keys(t, "Right", 2);
    sleep_ms(300);
    screen = wait_for(t, "10%", NULL, 5000);

    double ctx;
    char quant[32], margin[32];
    assert_true(number_after(screen, "Context", &ctx));
    assert_true(word_after(screen, "Quantization", quant, sizeof quant));
    assert_true(word_after(screen, "Margin  ", margin, sizeof margin));
    assert_string_equal(margin, "10%");
    assert_true(ctx == 65536);

    double weights, kv, total, tw, tk, tt;
    assert_true(figure(screen, "weights ", &weights, &tw));
    assert_true(figure(screen, "KV ", &kv, &tk));
    assert_true(figure(screen, "total ", &total, &tt));
    free(screen);

    tu_run_result r;
    assert_int_equal(tu_run_headroom(&r, "plan %s --ctx-size %.0f --quant %s --margin %s --json",
                                     MODEL, ctx, quant, margin), 0);
    if (r.exit_code != 0)
        print_message("# headroom plan failed: %s\n", r.err);
    assert_int_equal(r.exit_code, 0);
    cJSON *root = cJSON_Parse(r.out);
    assert_non_null(root);
    expect_close("weights", weights, tw, json_memory(root, "weights"));
    expect_close("kv", kv, tk, json_memory(root, "kv"));
    expect_close("total", total, tt, json_memory(root, "total"));
    cJSON_Delete(root);
    tu_run_free(&r);

    /* 80x24 still renders every panel within the width */
    free(tmux(t, "resize-window", "-t", "hr", "-x", "80", "-y", "24", NULL));
    sleep_ms(300);
    screen = wait_for(t, "Settings", "total ", 5000);
    assert_non_null(strstr(screen, "Memory"));
    assert_non_null(strstr(screen, "Total vs context"));
    check_lines_fit(screen, 80);
    free(screen);

    /* below 80x24 a clear message, and back */
    free(tmux(t, "resize-window", "-t", "hr", "-x", "60", "-y", "20", NULL));
    screen = wait_for(t, "terminal too small", NULL, 5000);
    assert_non_null(strstr(screen, "terminal too small"));
    free(screen);
    free(tmux(t, "resize-window", "-t", "hr", "-x", "80", "-y", "24", NULL));
    screen = wait_for(t, "Settings", NULL, 5000);
    assert_null(strstr(screen, "terminal too small"));
    free(screen);

    /* a second model through the opener, filtered by name */
    keys(t, "o", 1);
    screen = wait_for(t, "Presets", NULL, 5000);
    assert_non_null(strstr(screen, "Presets"));
    free(screen);
    keys(t, "/", 1);
    free(tmux(t, "send-keys", "-t", "hr", "-l", SECOND_MODEL, NULL));
    keys(t, "Enter", 1);
    sleep_ms(200);
    keys(t, "Enter", 1);
    screen = wait_for(t, "Qwen", "Settings", 5000);
    assert_non_null(strstr(screen, "Qwen"));
    assert_non_null(strstr(screen, "opened"));
    free(screen);

    keys(t, "q", 1);
    quit_and_check(t, "HR-EXIT=0");
}

static void test_sigterm_restores_terminal(void **state)
{
    tmux_ctx *t = *state;
    if (!t)
        skip(); /* tmux is not installed */
    start(t, MODEL, 100, 30);
    char *screen = wait_for(t, "Settings", NULL, 10000);
    free(screen);
    char *pid_text = tu_read_file(t->pidfile, NULL);
    assert_non_null(pid_text);
    long pid = atol(pid_text);
    free(pid_text);
    assert_true(pid > 1);
    assert_int_equal(kill((pid_t)pid, SIGTERM), 0);
    quit_and_check(t, "HR-EXIT=143");
}

static void test_help_lists_every_key(void **state)
{
    tmux_ctx *t = *state;
    if (!t)
        skip(); /* tmux is not installed */
    /* with ~/.config/headroom present the model is remembered as recent */
    char *config = tu_path(t->dir, "config");
    char *config_headroom = tu_path(config, "headroom");
    char *recent = tu_path(config_headroom, "recent");
    assert_int_equal(mkdir(config, 0700), 0);
    assert_int_equal(mkdir(config_headroom, 0700), 0);
    start(t, MODEL, 100, 40);
    free(wait_for(t, "Settings", NULL, 10000));
    keys(t, "?", 1);
    char *screen = wait_for(t, "Keys", NULL, 5000);
    assert_non_null(strstr(screen, "quit headroom"));
    assert_non_null(strstr(screen, "--ctx-size"));
    free(screen);
    keys(t, "Escape", 1);
    free(wait_for(t, "Total vs context", NULL, 5000));
    keys(t, "F10", 1);
    quit_and_check(t, "HR-EXIT=0");
    char *text = tu_read_file(recent, NULL);
    assert_non_null(text);
    assert_string_equal(text, MODEL "\n");
    free(text);
    free(recent);
    free(config_headroom);
    free(config);
}

static void test_typed_values_and_scenarios(void **state)
{
    tmux_ctx *t = *state;
    if (!t)
        skip(); /* tmux is not installed */
    start(t, MODEL, 100, 30);
    free(wait_for(t, "Settings", NULL, 10000));
    /* Enter opens an input line on the selected row (Context) */
    keys(t, "Enter", 1);
    keys(t, "C-u", 1);
    free(tmux(t, "send-keys", "-t", "hr", "-l", "8k", NULL));
    keys(t, "Enter", 1);
    char *screen = wait_for(t, "8192", NULL, 5000);
    double ctx = 0;
    assert_true(number_after(screen, "Context", &ctx));
    assert_true(ctx == 8192);
    free(screen);
    /* a bad value: the engine's message in the status line, the app keeps going */
    keys(t, "Enter", 1);
    keys(t, "C-u", 1);
    free(tmux(t, "send-keys", "-t", "hr", "-l", "lots", NULL));
    keys(t, "Enter", 1);
    screen = wait_for(t, "ctx_size", NULL, 5000);
    assert_non_null(strstr(screen, "'lots'"));
    assert_true(number_after(screen, "Context", &ctx));
    assert_true(ctx == 8192);
    free(screen);
    /* save the scenario, change the context, load it back */
    char *path = tu_path(t->dir, "saved.yaml");
    keys(t, "s", 1);
    keys(t, "C-u", 1);
    free(tmux(t, "send-keys", "-t", "hr", "-l", path, NULL));
    keys(t, "Enter", 1);
    free(wait_for(t, "scenario saved", NULL, 5000));
    char *yaml = tu_read_file(path, NULL);
    assert_non_null(yaml);
    assert_non_null(strstr(yaml, "8192"));
    free(yaml);
    keys(t, "Right", 1);
    free(wait_for(t, "16384", NULL, 5000));
    keys(t, "l", 1);
    keys(t, "C-u", 1);
    free(tmux(t, "send-keys", "-t", "hr", "-l", path, NULL));
    keys(t, "Enter", 1);
    screen = wait_for(t, "scenario loaded", NULL, 5000);
    assert_true(number_after(screen, "Context", &ctx));
    assert_true(ctx == 8192);
    free(screen);
    free(path);
    keys(t, "q", 1);
    quit_and_check(t, "HR-EXIT=0");
}

static void test_every_view_renders(void **state)
{
    tmux_ctx *t = *state;
    if (!t)
        skip(); /* tmux is not installed */
    start(t, "llama-3.1-8b --hardware h100-sxm-80gb", 100, 30);
    free(wait_for(t, "Settings", "H100", 10000));
    static const struct { const char *key; const char *title; } views[] = {
        {"t", "Quantization at the current settings"}, {"c", "Compare hardware"},
        {"b", "Layers and devices"}, {"o", "Open a model"}, {"p", "Total vs context"},
    };
    for (size_t i = 0; i < sizeof views / sizeof views[0]; i++) {
        keys(t, views[i].key, 1);
        keys(t, "Down", 3);
        keys(t, "End", 1);
        keys(t, "Home", 1);
        char *screen = wait_for(t, views[i].title, NULL, 5000);
        assert_non_null(strstr(screen, views[i].title));
        check_lines_fit(screen, 100);
        free(screen);
    }
    /* the quant table's Enter sets the what-if quantization */
    keys(t, "t", 1);
    keys(t, "Down", 4);
    keys(t, "Enter", 1);
    char *screen = wait_for(t, "quantization:", NULL, 5000);
    assert_non_null(strstr(screen, "quantization:"));
    free(screen);
    /* the compare view's Enter makes the entry the target */
    keys(t, "c", 1);
    keys(t, "Enter", 1);
    screen = wait_for(t, "target:", NULL, 5000);
    assert_non_null(strstr(screen, "target:"));
    free(screen);
    keys(t, "q", 1);
    quit_and_check(t, "HR-EXIT=0");
}

/* ---------- mouse, through a pseudo-terminal of our own ---------- */

typedef struct pty_run {
    int fd;
    pid_t pid;
    char *seen;
    size_t len;
} pty_run;

static bool pty_start(pty_run *p, const char *model)
{
    memset(p, 0, sizeof *p);
    p->fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (p->fd < 0 || grantpt(p->fd) != 0 || unlockpt(p->fd) != 0)
        return false;
    const char *slave = ptsname(p->fd);
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    p->pid = fork();
    if (p->pid == 0) {
        setsid();
        int s = open(slave, O_RDWR);
        if (s < 0)
            _exit(127);
        ioctl(s, TIOCSCTTY, 0);
        ioctl(s, TIOCSWINSZ, &ws);
        dup2(s, 0);
        dup2(s, 1);
        dup2(s, 2);
        setenv("TERM", "xterm-256color", 1);
        setenv("LANG", "C.UTF-8", 1);
        execl(tu_headroom_bin(), "headroom", model, (char *)NULL);
        _exit(127);
    }
    return p->pid > 0;
}

/* Read the program's output until it contains needle (or the time is up). */
static bool pty_wait(pty_run *p, const char *needle, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        struct pollfd pfd = {p->fd, POLLIN, 0};
        while (poll(&pfd, 1, 50) > 0 && (pfd.revents & POLLIN)) {
            char buf[8192];
            ssize_t r = read(p->fd, buf, sizeof buf);
            if (r <= 0)
                break;
            p->seen = realloc(p->seen, p->len + (size_t)r + 1);
            memcpy(p->seen + p->len, buf, (size_t)r);
            p->len += (size_t)r;
            p->seen[p->len] = '\0';
        }
        if (p->seen && strstr(p->seen, needle))
            return true;
    }
    return false;
}

static void test_mouse_click_on_tab(void **state)
{
    (void)state;
    pty_run p;
    assert_true(pty_start(&p, MODEL));
    assert_true(pty_wait(&p, "Settings", 10000));
    /* the planner asked for mouse reports */
    assert_non_null(strstr(p.seen, "1000h"));
    /* SGR click (1-based column 25, row 24): the key bar's Compare tab */
    const char click[] = "\033[<0;25;24M\033[<0;25;24m";
    assert_int_equal(write(p.fd, click, sizeof click - 1), (ssize_t)(sizeof click - 1));
    assert_true(pty_wait(&p, "Compare hardware", 5000));
    assert_int_equal(write(p.fd, "q", 1), 1);
    int status = 0;
    for (int i = 0; i < 100 && waitpid(p.pid, &status, WNOHANG) == 0; i++)
        sleep_ms(50);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(p.fd);
    free(p.seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_planner_matches_plan_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_restores_terminal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_lists_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_typed_values_and_scenarios, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_view_renders, setup, teardown),
        cmocka_unit_test(test_mouse_click_on_tab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
