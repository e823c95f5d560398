/* kh-application.h: the Khuyến Học application
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KH_TYPE_APPLICATION (kh_application_get_type ())

G_DECLARE_FINAL_TYPE (KhApplication, kh_application, KH, APPLICATION, AdwApplication)

KhApplication *kh_application_new             (void);
char          *kh_application_default_db_path (void);
int            kh_application_get_status      (KhApplication *self);

G_END_DECLS
