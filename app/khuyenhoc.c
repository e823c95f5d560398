/* khuyenhoc.c: the desktop application
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "kh-application.h"
#include "kh-memory.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(KhApplication) app = NULL;
  const char *localedir = g_getenv ("KHUYENHOC_LOCALEDIR");
  int status;

  kh_memory_setup ();
  /* KHUYENHOC_LOCALEDIR lets the tests and ./dev run use the catalogues in the build folder. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = kh_application_new ();
  status = g_application_run (G_APPLICATION (app), argc, argv);
  return status != 0 ? status : kh_application_get_status (app);
}
