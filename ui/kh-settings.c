/* kh-settings.c: the application's GSettings, found even when run from the build folder
 *
 * Installed, the schema is in the system's schema folder. Run from the build folder (./dev run,
 * the tests), it is compiled into build/app; looking there first avoids the abort GSettings
 * gives for a missing schema.
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
  g_autoptr(GSettingsSchemaSource) build_source = NULL;
  g_autofree char *dir = g_build_filename (KH_BUILD_DIR, "app", NULL);

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema == NULL && g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      build_source = g_settings_schema_source_new_from_directory (dir, source, FALSE, NULL);
      if (build_source != NULL)
        schema = g_settings_schema_source_lookup (build_source, APP_ID, TRUE);
    }
  if (schema == NULL)
    {
      g_debug ("the settings schema %s is not installed", APP_ID);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}
