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
#include "kh-entity.h"
#include "kh-validate.h"

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

/* The integrity check compares what a record is, on both ends, through one canonical text:
 *
 *   <id>:<version>:<0|1 deleted>:{"field":value,…}
 *
 * with the fields of @entity in registry order, each value as the wire writes it (strings
 * escaped by kh_wire_write_string(), integers in decimal, booleans, JSON objects by
 * kh_wire_write_json()), fields without a value (absent or null) left out. The server reads
 * the values from its stored JSON (kh_wire_fields_values()), the replica from its columns;
 * both hand them here as one KhValue per field. */
void     kh_wire_write_canonical    (GString        *out,
                                     const KhEntity *entity,
                                     const KhValue  *values);
/* FNV-1a-64 of the canonical text of one record, written into @scratch (emptied first, kept
 * for the next record): XOR these over records for the order-independent checksum of the
 * integrity check (PROTOCOL.md §4). */
guint64  kh_wire_record_checksum    (GString        *scratch,
                                     const KhEntity *entity,
                                     const char     *id,
                                     gint64          version,
                                     gboolean        deleted,
                                     const KhValue  *values);
/* kh_wire_record_checksum() of a record whose fields are the JSON object text @fields, as the
 * server stores them (NULL: none), read by kh_wire_fields_values() into @values (room for the
 * fields of @entity). Text that already is the canonical one, as nearly all the server writes
 * is, is hashed as it is, without being written again. */
guint64  kh_wire_stored_checksum    (GString        *scratch,
                                     KhValue        *values,
                                     const KhEntity *entity,
                                     const char     *id,
                                     gint64          version,
                                     gboolean        deleted,
                                     const char     *fields);
/* Reads the JSON object text @fields (a record's fields as the server stores or sends them)
 * into @values, one per field of @entity; members the registry does not know are skipped.
 * Without json-c when the text is a flat object of plain strings, integers, booleans and
 * nulls, as the server writes it; otherwise through json-c, whose tree is put in @tree (the
 * values point into it: put it after use). @canonical (may be NULL) tells whether @fields is
 * itself the canonical text, as it nearly always is for what the server stored: its fields in
 * registry order, none null, none unknown, nothing escaped. FALSE when the text is not a JSON
 * object. */
gboolean kh_wire_fields_values      (const KhEntity *entity,
                                     const char     *fields,
                                     KhValue        *values,
                                     json_object   **tree,
                                     gboolean       *canonical);
/* The same from a json-c object of fields (a record's "fields", a merge base). */
void     kh_wire_json_values        (const KhEntity *entity,
                                     json_object    *fields,
                                     KhValue        *values);
/* kh_wire_record_checksum() of a record held as json-c (@fields: field → value); 0 for an
 * entity the registry does not know. */
guint64  kh_wire_record_checksum_json (const char   *entity,
                                       const char   *id,
                                       gint64        version,
                                       gboolean      deleted,
                                       json_object  *fields);

G_END_DECLS
