/* Engine-private helpers over libyaml's document API, shared by the YAML
 * readers (hardware catalog, presets, runtimes, scenarios): load a document,
 * walk mappings, read scalars, and errors that name the file and line. */
#ifndef HR_CORE_YAML_DOC_H
#define HR_CORE_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "headroom/error.h"

typedef struct hr_yaml_doc {
    yaml_document_t doc;
    const char *origin; /* the file name in messages */
    hr_error *err;
} hr_yaml_doc;

/* Parse len bytes of text into d (call hr_yaml_doc_free after HR_OK). A
 * syntax error reads "origin:LINE: what: problem". An empty text loads a
 * document without a root. */
hr_status hr_yaml_doc_load(hr_yaml_doc *d, const char *text, size_t len, const char *origin,
                           const char *what, hr_error *err);
void hr_yaml_doc_free(hr_yaml_doc *d);

yaml_node_t *hr_yaml_root(hr_yaml_doc *d);
yaml_node_t *hr_yaml_node(hr_yaml_doc *d, int id);
/* 1-based line of a node; 0 for NULL. */
unsigned hr_yaml_line(const yaml_node_t *n);
/* The text of a scalar node; NULL for NULL or another kind of node. */
const char *hr_yaml_scalar(const yaml_node_t *n);
/* The value under key in a mapping node; NULL if absent or not a mapping. */
yaml_node_t *hr_yaml_map_get(hr_yaml_doc *d, const yaml_node_t *map, const char *key);
/* "", "~" and plain null/Null/NULL: nothing given. */
bool hr_yaml_is_null(const yaml_node_t *n);

/* hr_error_set with "origin:LINE: " (or "origin: " without a node) first. */
hr_status hr_yaml_fail(const hr_yaml_doc *d, const yaml_node_t *n, hr_status st,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A whole scalar as a finite number in [min, max] (decimal or exponent
 * notation; overflow and underflow refused). */
bool hr_yaml_text_number(const char *s, double min, double max, double *out);
/* true/yes or false/no, any case. */
bool hr_yaml_text_bool(const char *s, bool *out);

#endif
