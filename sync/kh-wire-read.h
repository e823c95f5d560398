/* kh-wire-read.h: the client's fast reader of the wire's JSON
 *
 * The generic half of the page reader: JSON tokens read where they are, json-c values made only
 * when asked for. The replica's page reader (sync/replica/kh-replica-page.c) builds its records
 * with it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-c/json.h>
#include <string.h>

#include "kh-codec.h"
#include "kh-entity.h"

G_BEGIN_DECLS

/* A reader over @text: @p is where it is, @depth how deep in lists and objects. */
typedef struct
{
  const char *text;
  const char *p;
  const char *end;
  int         depth;
  GString    *scratch;  /* a string with escapes, decoded */
} KhWireReader;

typedef gboolean (*KhWireReadItem) (KhWireReader  *rd,
                  gpointer                         data,
                  GError                         **error);

gboolean kh_wire_read_fail    (KhWireReader    *rd,
                               GError         **error);
gboolean kh_wire_read_deeper  (KhWireReader    *rd,
                               GError         **error);
gboolean kh_wire_read_string  (KhWireReader    *rd,
                               const char     **out,
                               gsize           *len,
                               GError         **error);
gboolean kh_wire_scan_number  (KhWireReader    *rd,
                               gboolean        *whole,
                               GError         **error);
gboolean kh_wire_whole_number (const char *start,
                               gsize       n,
                               gint64     *v);
gboolean kh_wire_read_number  (KhWireReader    *rd,
                               json_object    **out,
                               GError         **error);
gboolean kh_wire_read_list    (KhWireReader    *rd,
                               char             open,
                               char             close,
                               KhWireReadItem   item,
                               gpointer         data,
                               GError         **error);
gboolean kh_wire_read_object  (KhWireReader    *rd,
                               const KhEntity  *entity,
                               json_object    **out,
                               GError         **error);
gboolean kh_wire_read_array   (KhWireReader    *rd,
                               json_object    **out,
                               GError         **error);
gboolean kh_wire_read_value   (KhWireReader    *rd,
                               json_object    **out,
                               GError         **error);

/* The small steps, inline: the page reader takes them for every member and value. */

static inline void
kh_wire_read_space (KhWireReader *rd)
{
  while (rd->p < rd->end && (*rd->p == ' ' || *rd->p == '\n' || *rd->p == '\r' || *rd->p == '\t'))
    rd->p++;
}

/* Whether the next character (after white space) is @c; taken if it is. */
static inline gboolean
kh_wire_read_char (KhWireReader *rd,
                   char          c)
{
  kh_wire_read_space (rd);
  if (rd->p < rd->end && *rd->p == c)
    {
      rd->p++;
      return TRUE;
    }
  return FALSE;
}

static inline gboolean
kh_wire_read_word (KhWireReader *rd,
                   const char   *word)
{
  gsize n = strlen (word);

  if ((gsize) (rd->end - rd->p) < n || memcmp (rd->p, word, n) != 0)
    return FALSE;
  rd->p += n;
  return TRUE;
}

/* The field of @entity named by the @key_len bytes at @key. In the registry's order each name
 * is the next field on from @cursor, found without a search; @cursor is left after it. */
static inline const KhField *
kh_wire_find_field (const KhEntity *entity,
                    const char     *key,
                    gsize           key_len,
                    guint          *cursor)
{
  for (guint pass = 0; pass < 2; pass++)
    for (guint j = pass == 0 ? *cursor : 0; j < entity->n_fields; j++)
      if (entity->fields[j].name[0] == key[0] && strncmp (entity->fields[j].name, key, key_len) == 0
          && entity->fields[j].name[key_len] == '\0')
        {
          *cursor = j + 1;
          return &entity->fields[j];
        }
  return NULL;
}

/* The member's name and the colon after it. */
static inline gboolean
kh_wire_read_name (KhWireReader  *rd,
                   const char   **name,
                   gsize         *len,
                   GError       **error)
{
  if (!kh_wire_read_string (rd, name, len, error))
    return FALSE;
  if (!kh_wire_read_char (rd, ':'))
    return kh_wire_read_fail (rd, error);
  return TRUE;
}

G_END_DECLS
