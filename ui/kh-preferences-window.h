/* kh-preferences-window.h: server, sync interval, metered networks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_PREFERENCES_WINDOW (kh_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (KhPreferencesWindow, kh_preferences_window, KH, PREFERENCES_WINDOW, AdwPreferencesWindow)

GtkWidget *kh_preferences_window_new       (void);
/* Adds the Backups page of @store's replica. */
void       kh_preferences_window_set_store (KhPreferencesWindow *self,
                                            KhStore             *store);

G_END_DECLS
