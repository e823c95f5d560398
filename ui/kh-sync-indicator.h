/* kh-sync-indicator.h: the header bar's sync state at a glance
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "kh-sync-client.h"

G_BEGIN_DECLS

#define KH_TYPE_SYNC_INDICATOR (kh_sync_indicator_get_type ())

G_DECLARE_FINAL_TYPE (KhSyncIndicator, kh_sync_indicator, KH, SYNC_INDICATOR, GtkButton)


G_END_DECLS
