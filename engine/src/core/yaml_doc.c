/* Shared libyaml document helpers (see yaml_doc.h). */
#include "core/yaml_doc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

hr_status hr_yaml_doc_load(hr_yaml_doc *d, const char *text, size_t len, const char *origin,
                           const char *what, hr_error *err)
{
    memset(d, 0, sizeof *d);
    d->origin = origin;
    d->err = err;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return hr_error_set(err, HR_ERR_NOMEM, "%s: cannot start the YAML parser", origin);
    yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""),
                                 text ? len : 0);
    hr_status st = HR_OK;
    if (!yaml_parser_load(&parser, &d->doc))
        st = hr_error_set(err, HR_ERR_FORMAT, "%s:%zu: %s: %s", origin,
                          parser.problem_mark.line + 1, what,
                          parser.problem ? parser.problem : "malformed");
    /* the document owns its nodes: the parser is no longer needed */
    yaml_parser_delete(&parser);
    return st;
}

void hr_yaml_doc_free(hr_yaml_doc *d)
{
    yaml_document_delete(&d->doc);
}

yaml_node_t *hr_yaml_root(hr_yaml_doc *d)
{
    return yaml_document_get_root_node(&d->doc);
}

yaml_node_t *hr_yaml_node(hr_yaml_doc *d, int id)
{
    return yaml_document_get_node(&d->doc, id);
}

unsigned hr_yaml_line(const yaml_node_t *n)
{
    return n ? (unsigned)n->start_mark.line + 1 : 0;
}

const char *hr_yaml_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *hr_yaml_map_get(hr_yaml_doc *d, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = hr_yaml_scalar(hr_yaml_node(d, p->key));
        if (k && strcmp(k, key) == 0)
            return hr_yaml_node(d, p->value);
    }
    return NULL;
}

bool hr_yaml_is_null(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return false;
    size_t len = n->data.scalar.length;
    const char *v = (const char *)n->data.scalar.value;
    if (len == 0)
        return true;
    /* a quoted "null" is a name */
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    return (len == 1 && v[0] == '~') ||
           (len == 4 && (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 ||
                         memcmp(v, "NULL", 4) == 0));
}

hr_status hr_yaml_fail(const hr_yaml_doc *d, const yaml_node_t *n, hr_status st,
                       const char *fmt, ...)
{
    char what[HR_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (n)
        return hr_error_set(d->err, st, "%s:%u: %s", d->origin, hr_yaml_line(n), what);
    return hr_error_set(d->err, st, "%s: %s", d->origin, what);
}

bool hr_yaml_text_number(const char *s, double min, double max, double *out)
{
    if (!s || !*s)
        return false;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool hr_yaml_text_bool(const char *s, bool *out)
{
    if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes"))) {
        *out = true;
        return true;
    }
    if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no"))) {
        *out = false;
        return true;
    }
    return false;
}
