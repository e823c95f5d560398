/* kh-codec-private.h: what the files of the codec share
 *
 * The codec is one unit split by message around this header: kh-codec.c holds the error codes,
 * the strict member readers below, parsing, errors, records, login and health;
 * kh-codec-push.c the mutations and push results; kh-codec-changes.c the change feed and the
 * integrity summaries. Nothing outside these files includes it; kh-codec.h is the public API.
 *
 * The readers take the member @name of @obj and fail with a KH_SYNC_ERROR naming it as
 * "@where.@name" when it is missing (and required), of another type, or out of bounds.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-codec.h"

G_BEGIN_DECLS

gboolean     kh_codec_wrong_type   (GError      **error,
                                    const char   *where,
                                    const char   *name,
                                    const char   *expected);
json_object *kh_codec_member       (json_object  *obj,
                                    const char   *where,
                                    const char   *name,
                                    json_type     type,
                                    gboolean      required,
                                    gboolean     *present,
                                    GError      **error);
gboolean     kh_codec_get_string   (json_object  *obj,
                                    const char   *where,
                                    const char   *name,
                                    gboolean      required,
                                    gsize         max_len,
                                    char        **out,
                                    GError      **error);
gboolean     kh_codec_get_uuid     (json_object  *obj,
                                    const char   *where,
                                    const char   *name,
                                    gboolean      required,
                                    char        **out,
                                    GError      **error);
gboolean     kh_codec_get_name     (json_object  *obj,
                                    const char   *where,
                                    const char   *name,
                                    char        **out,
                                    GError      **error);
gboolean     kh_codec_get_int      (json_object  *obj,
                                    const char   *where,
                                    const char   *name,
                                    gboolean      required,
                                    gint64        min,
                                    gint64       *out,
                                    GError      **error);
gboolean     kh_codec_get_bool     (json_object  *obj,
                                    const char   *where,
                                    const char   *name,
                                    gboolean      required,
                                    gboolean     *out,
                                    GError      **error);
gboolean     kh_codec_check_fields (json_object  *fields,
                                    const char   *where,
                                    gboolean      allow_null,
                                    GError      **error);

G_END_DECLS
