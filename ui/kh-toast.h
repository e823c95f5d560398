/* kh-toast.h: showing a toast from any widget, without knowing the window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

void        kh_widget_add_toast               (GtkWidget       *widget,
                                               AdwToast        *toast);
const char *kh_toast_overlay_get_last_title   (AdwToastOverlay *overlay);

G_END_DECLS
