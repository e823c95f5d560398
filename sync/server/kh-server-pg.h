/* kh-server-pg.h: the server's storage on PostgreSQL through libpq
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-server-backend.h"

G_BEGIN_DECLS

#define KH_TYPE_SERVER_PG (kh_server_pg_get_type ())

G_DECLARE_FINAL_TYPE (KhServerPg, kh_server_pg, KH, SERVER_PG, GObject)

KhServerPg *kh_server_pg_open (const char  *url,
                               GError     **error);

G_END_DECLS
