/* kh-wire.h: the fast paths of the wire format, checked byte for byte against the codec
 *
 * The codec (kh-codec.h) is the reference: it builds and reads json-c trees. The server's feed
 * and push write too much JSON for that, so they use the writers here, which give the same
 * bytes as kh_codec_to_string() without building a tree (tests/sync/test-wire-write.c proves
 * it). The record checksum of the integrity check lives here too, once for both ends.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-c/json.h>

#include "kh-codec.h"

G_BEGIN_DECLS

/* Writing ------------------------------------------------------------------------------------- */

/* Appends @s (@len bytes, or up to its NUL when @len is negative) as a JSON string, escaped as
 * json-c escapes it with JSON_C_TO_STRING_NOSLASHESCAPE. */
void     kh_wire_write_string       (GString        *out,
                                     const char     *s,
                                     gssize          len);
/* Appends @o as compact JSON text: the same text kh_codec_to_string() gives. */
void     kh_wire_write_json         (GString        *out,
                                     json_object    *o);
/* Appends one record of a change-feed page, as kh_record_to_json() would encode it. @version
 * is the decimal text of the version (as the database hands it out) and @fields the compact
 * JSON text of the fields (NULL: none), both copied as they are. */
void     kh_wire_write_record       (GString        *out,
                                     const char     *entity,
                                     const char     *id,
                                     const char     *version,
                                     gboolean        deleted,
                                     const char     *fields,
                                     const char     *updated_by,
                                     const char     *updated_at);
/* A change-feed page: @page's members around @records (@len bytes of record objects separated
 * by commas, as kh_wire_write_record() wrote them). @page->records is not read. */
GString *kh_wire_write_page         (const KhChangesPage *page,
                                     const char     *records,
                                     gsize           len);

/* Checksums ----------------------------------------------------------------------------------- */

/* FNV-1a, 64 bits, of the bytes of @text up to its NUL. */
guint64  kh_wire_fnv1a64            (const char     *text);
/* FNV-1a-64 of "<id>:<version>": XOR these over records for the order-independent checksum
 * of the integrity check. */
guint64  kh_wire_record_checksum    (const char     *id,
                                     gint64          version);

G_END_DECLS
