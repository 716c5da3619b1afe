/* The recent-models file: one model (path or preset id) per line. */
#include "recent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "format.h"

static bool recent_path(char *out, size_t len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, len, "%s/headroom", xdg);
    else if (home && *home)
        n = snprintf(out, len, "%s/.config/headroom", home);
    else
        return false;
    struct stat st;
    if (n < 0 || (size_t)n + sizeof "/recent" > len || stat(out, &st) != 0 || !S_ISDIR(st.st_mode))
        return false;
    strcat(out, "/recent");
    return true;
}

void recent_load(tui_app *app)
{
    char path[APP_PATH_MAX];
    if (!recent_path(path, sizeof path))
        return;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[APP_PATH_MAX + 2];
    /* the file lists the most recent first: remember in reverse to keep that order */
    char kept[APP_RECENT_MAX][APP_PATH_MAX];
    int n = 0;
    while (n < APP_RECENT_MAX && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0])
            text_copy(kept[n++], sizeof kept[0], line);
    }
    fclose(f);
    for (int i = n - 1; i >= 0; i--)
        app_remember(app, kept[i]);
}

void recent_save(const tui_app *app)
{
    char path[APP_PATH_MAX];
    if (!recent_path(path, sizeof path))
        return;
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    for (int i = 0; i < app->n_recent; i++)
        fprintf(f, "%s\n", app->recent[i]);
    fclose(f);
}
