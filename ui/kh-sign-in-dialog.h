/* kh-sign-in-dialog.h: signing in to the association's server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-sync-client.h"

G_BEGIN_DECLS

#define KH_TYPE_SIGN_IN_DIALOG (kh_sign_in_dialog_get_type ())

G_DECLARE_FINAL_TYPE (KhSignInDialog, kh_sign_in_dialog, KH, SIGN_IN_DIALOG, AdwWindow)

GtkWidget  *kh_sign_in_dialog_new         (KhSyncClient   *client);
const char *kh_sign_in_dialog_get_message (KhSignInDialog *self);

G_END_DECLS
