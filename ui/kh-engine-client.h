/* kh-engine-client.h: the sync engine (sync/kh-sync-engine.h) behind the window's seam
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kh-store.h"
#include "kh-sync-client.h"

G_BEGIN_DECLS

#define KH_TYPE_ENGINE_CLIENT (kh_engine_client_get_type ())

G_DECLARE_FINAL_TYPE (KhEngineClient, kh_engine_client, KH, ENGINE_CLIENT, GObject)

KhEngineClient *kh_engine_client_new (KhStore   *store,
                                      GSettings *settings);

G_END_DECLS
