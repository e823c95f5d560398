/* kh-settings.c: the application's GSettings, or none when its schema is not installed
 *
 * Installed, the schema is in the system's schema folder. Run from the build folder, `./dev run`
 * and the tests point GSETTINGS_SCHEMA_DIR (which GLib's default source reads) at the schema
 * compiled into build/app; the program itself never looks into a build folder. Looking the
 * schema up first avoids the abort GSettings gives for a missing one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kh-settings.h"

GSettings *
kh_settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL)
    {
      g_debug ("the settings schema %s is not installed", APP_ID);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}
