/* kh-unlock.h: the window finds the key of its replica, asking for a passphrase if it must
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Called once: @opened TRUE when the store can open the replica (its key is given). */
typedef void (*KhUnlockDone) (gboolean opened,
                              gpointer user_data);

void kh_unlock_replica (GtkApplication *app,
                        const char     *db_path,
                        KhUnlockDone    done,
                        gpointer        user_data);

G_END_DECLS
