/* bench-prefill.h: a PostgreSQL server database filled with many records, by the database
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Copies the records the database already holds (a `demo` run: its province, its records of
 * every kind and their mutation log) until it holds at least @records of them; see
 * bench-prefill.c and docs/SCALE.md. Returns how many records it holds then; asserts on
 * failure. */
gint64 kh_bench_prefill_pg (const char *url,
                            gint64      records);

G_END_DECLS
