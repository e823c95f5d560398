/* kh-text-rendering.h: font rendering settings that keep Vietnamese tone marks whole
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void kh_text_rendering_setup (GdkDisplay *display);

G_END_DECLS
