/* SPDX-License-Identifier: MIT */
/* render_xml.h - the libxml2 writer as the XML renderers use it */
#pragma once

#include <libxml/xmlwriter.h>
#include <stdbool.h>

#include "util.h"

/*
 * A thin layer over xmlTextWriter: every byte of XML snapfeed writes goes
 * through libxml2, which does all escaping.  Calls after a failure do
 * nothing; xw_finish() reports it.
 */
struct xw {
    xmlBufferPtr buf;
    xmlTextWriterPtr w;
    bool failed;
    bool document;
};

/* Starts an XML document (document true) or a bare fragment. */
void xw_begin(struct xw *x, bool document);
void xw_start(struct xw *x, const char *name);
void xw_attr(struct xw *x, const char *name, const char *value);
void xw_text(struct xw *x, const char *text);
void xw_end(struct xw *x);
/* <name>text</name>, or nothing when text is NULL. */
void xw_el(struct xw *x, const char *name, const char *text);
/* Appends s to out with XML's special characters escaped (libxml2's
 * xmlEncodeSpecialChars: the writer escapes only inside elements). */
void xw_escape(const char *s, struct sf_buf *out);
/* Ends the document, appends the bytes to out, frees the writer; false on
 * any failure (then out is unchanged). */
bool xw_finish(struct xw *x, struct sf_buf *out);
