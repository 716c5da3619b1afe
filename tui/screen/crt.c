/* Terminal setup, colour scheme and terminal-restoring signal handling. */
#include "crt.h"

#include <langinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one global the planner keeps: the signal handler must know whether
 * curses owns the terminal. */
static volatile sig_atomic_t curses_owns_terminal = 0;

static void restore_and_reraise(int sig)
{
    if (curses_owns_terminal) {
        curses_owns_terminal = 0;
        endwin();
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signal_handlers(void)
{
    static const int fatal[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE,
                                SIGABRT};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = restore_and_reraise;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaction(fatal[i], &sa, NULL);
}

static void restore_at_exit(void)
{
    if (curses_owns_terminal) {
        curses_owns_terminal = 0;
        endwin();
    }
}

static const tui_glyphs glyphs_utf8 = {
    .fill = {"\u2588", "\u2593", "\u2592", "\u2591", "\u2584", "\u2506"},
    .free_cell = "\u00b7",
    .curve = "\u2022",
    .capacity = "\u2501",
    .marker = "\u2502",
    .arrow_left = "\u25c2",
    .arrow_right = "\u25b8",
    .pointer = "\u25b8",
    .dot = "\u00b7",
};

static const tui_glyphs glyphs_ascii = {
    .fill = {"#", "=", "%", "+", "~", ":"},
    .free_cell = ".",
    .curve = "*",
    .capacity = "=",
    .marker = "|",
    .arrow_left = "<",
    .arrow_right = ">",
    .pointer = ">",
    .dot = "-",
};

/* Pair numbers are the tui_colour values themselves. */
static void define_pairs(void)
{
    short bg = -1;
    struct { tui_colour c; short fg, bg; } scheme[] = {
        {COL_HEADER, COLOR_BLACK, COLOR_CYAN},   {COL_BORDER, COLOR_BLUE, bg},
        {COL_TITLE, COLOR_CYAN, bg},             {COL_SELECTED, COLOR_BLACK, COLOR_CYAN},
        {COL_LABEL, COLOR_WHITE, bg},            {COL_VALUE, COLOR_CYAN, bg},
        {COL_DIM, COLOR_BLUE, bg},               {COL_FITS, COLOR_GREEN, bg},
        {COL_TIGHT, COLOR_YELLOW, bg},           {COL_OVERFLOW, COLOR_RED, bg},
        {COL_WEIGHTS, COLOR_CYAN, bg},           {COL_KV, COLOR_MAGENTA, bg},
        {COL_OUTPUT, COLOR_BLUE, bg},            {COL_COMPUTE, COLOR_YELLOW, bg},
        {COL_OVERHEAD, COLOR_WHITE, bg},         {COL_MARGIN, COLOR_RED, bg},
        {COL_FREE, COLOR_GREEN, bg},             {COL_STATUS, COLOR_WHITE, bg},
        {COL_ERROR, COLOR_WHITE, COLOR_RED},     {COL_KEY, COLOR_BLACK, COLOR_CYAN},
        {COL_KEYBAR, COLOR_WHITE, bg},           {COL_TAB_ACTIVE, COLOR_BLACK, COLOR_GREEN},
        {COL_CURVE, COLOR_CYAN, bg},             {COL_CAPACITY, COLOR_RED, bg},
        {COL_MARKER, COLOR_YELLOW, bg},
    };
    for (size_t i = 0; i < sizeof scheme / sizeof scheme[0]; i++)
        init_pair((short)scheme[i].c, scheme[i].fg, scheme[i].bg);
}

bool crt_init(tui_crt *crt, char *why, size_t why_len)
{
    memset(crt, 0, sizeof *crt);
    const char *codeset = nl_langinfo(CODESET);
    crt->utf8 = codeset && strcmp(codeset, "UTF-8") == 0;
    crt->glyphs = crt->utf8 ? glyphs_utf8 : glyphs_ascii;

    crt->screen = newterm(NULL, stdout, stdin);
    if (!crt->screen) {
        snprintf(why, why_len, "cannot start the terminal UI (TERM=%s)",
                 getenv("TERM") ? getenv("TERM") : "unset");
        return false;
    }
    set_term(crt->screen);
    crt->active = true;
    curses_owns_terminal = 1;
    install_signal_handlers();
    atexit(restore_at_exit);

    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);

    const char *no_color = getenv("NO_COLOR");
    crt->colour = has_colors() && !(no_color && no_color[0]);
    if (crt->colour) {
        start_color();
        use_default_colors();
        define_pairs();
    }
    return true;
}

void crt_done(tui_crt *crt)
{
    if (!crt->active)
        return;
    crt->active = false;
    curses_owns_terminal = 0;
    endwin();
    if (crt->screen) {
        delscreen(crt->screen);
        crt->screen = NULL;
    }
}

static attr_t monochrome(tui_colour colour)
{
    switch (colour) {
    case COL_HEADER: case COL_SELECTED: case COL_KEY: case COL_TAB_ACTIVE: case COL_ERROR:
        return A_REVERSE;
    case COL_TITLE: case COL_OVERFLOW: case COL_VALUE:
        return A_BOLD;
    case COL_TIGHT: case COL_MARKER:
        return A_UNDERLINE;
    case COL_DIM: case COL_BORDER: case COL_FREE:
        return A_DIM;
    default:
        return A_NORMAL;
    }
}

attr_t crt_attr(const tui_crt *crt, tui_colour colour)
{
    if (colour == COL_NORMAL)
        return A_NORMAL;
    if (!crt->colour)
        return monochrome(colour);
    attr_t extra = A_NORMAL;
    if (colour == COL_TITLE || colour == COL_OVERFLOW || colour == COL_FITS ||
        colour == COL_TIGHT || colour == COL_HEADER)
        extra = A_BOLD;
    return COLOR_PAIR((short)colour) | extra;
}
