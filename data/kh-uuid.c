/* kh-uuid.c: UUIDv7 (RFC 9562) generated locally, so records are created offline
 *
 * 48 bits of Unix milliseconds, then random bits; ids made later sort later, which keeps the
 * SQLite indexes on ids append-mostly. Within one millisecond a counter in the random part keeps
 * ids of one process increasing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-uuid.h"

#include <string.h>

G_LOCK_DEFINE_STATIC (uuid_lock);

char *
kh_uuid_v7_new (void)
{
  static gint64 last_ms = 0;
  static guint32 seq = 0;
  guint8 b[16];
  gint64 ms = g_get_real_time () / 1000;
  guint32 r1 = g_random_int ();
  guint32 r2 = g_random_int ();
  guint32 r3 = g_random_int ();
  guint32 counter;

  G_LOCK (uuid_lock);
  if (ms <= last_ms)
    {
      ms = last_ms;
      seq++;
      if (seq > 0xFFF)
        {
          /* 4096 ids in one millisecond: borrow the next millisecond. */
          ms = ++last_ms;
          seq = r1 & 0x3FF;
        }
    }
  else
    {
      last_ms = ms;
      seq = r1 & 0x3FF;   /* start low so the counter has room */
    }
  counter = seq;
  G_UNLOCK (uuid_lock);

  b[0] = (ms >> 40) & 0xFF;
  b[1] = (ms >> 32) & 0xFF;
  b[2] = (ms >> 24) & 0xFF;
  b[3] = (ms >> 16) & 0xFF;
  b[4] = (ms >> 8) & 0xFF;
  b[5] = ms & 0xFF;
  b[6] = 0x70 | ((counter >> 8) & 0x0F);
  b[7] = counter & 0xFF;
  b[8] = 0x80 | ((r2 >> 24) & 0x3F);
  b[9] = (r2 >> 16) & 0xFF;
  b[10] = (r2 >> 8) & 0xFF;
  b[11] = r2 & 0xFF;
  b[12] = (r3 >> 24) & 0xFF;
  b[13] = (r3 >> 16) & 0xFF;
  b[14] = (r3 >> 8) & 0xFF;
  b[15] = r3 & 0xFF;

  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                          b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                          b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

gboolean
kh_uuid_is_valid (const char *text)
{
  static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  guint bad = 0;

  if (text == NULL || strnlen (text, sizeof form) != sizeof form - 1)
    return FALSE;
  /* Every character looked at, without a branch: three ids in each record of a pull. */
  for (guint i = 0; i < sizeof form - 1; i++)
    {
      guchar c = (guchar) text[i];
      guint hex = (guint) (c - '0') < 10 || (guint) (c - 'a') < 6;

      bad |= form[i] == '-' ? c != '-' : !hex;
    }
  return bad == 0;
}
