/* kh-cli-attach.c: khuyenhoc-cli's attachment commands
 *
 * attach, attachments and detach work on the replica alone; the files move with the next sync
 * (fetch-attachments, in kh-cli-sync.c, asks for some and syncs).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-attach.h"
#include "kh-cli-attach.h"
#include "kh-entity.h"
#include "kh-format.h"

#define EXIT_OK KH_CLI_EXIT_OK
#define EXIT_FAILED KH_CLI_EXIT_FAILED

static void
print_json (json_object *o)
{
  g_print ("%s\n", json_object_to_json_string_ext (o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* attach ENTITY ID FILE [--name NAME] */
static int
cmd_attach (const KhCliCommand  *command,
            int                  argc,
            char               **argv,
            gpointer             data)
{
  KhCliContext *cli = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  const char *name = NULL;
  const char *words[3];
  int n = 0;

  for (int i = 0; i < argc; i++)
    {
      if (strcmp (argv[i], "--name") == 0 && i + 1 < argc)
        name = argv[++i];
      else if (g_str_has_prefix (argv[i], "--"))
        return kh_cli_unknown_option (command, argv[i]);
      else if (n < 3)
        words[n++] = argv[i];
      else
        return kh_cli_wrong_count (command, argc, 3);
    }
  if (n != 3)
    return kh_cli_wrong_count (command, n, 3);
  id = kh_attach_add (cli->store, words[0], words[1], words[2], name, &error);
  if (id == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  g_print ("%s\n", id);
  return EXIT_OK;
}

/* attachments [ID] */
static int
cmd_attachments (const KhCliCommand  *command,
                 int                  argc,
                 char               **argv,
                 gpointer             data)
{
  KhCliContext *cli = data;
  g_autoptr(GError) error = NULL;
  json_object *list = kh_attach_list (cli->store, argc > 0 ? argv[0] : NULL, &error);

  if (list == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  if (cli->json)
    print_json (list);
  else
    for (size_t i = 0; i < json_object_array_length (list); i++)
      {
        json_object *a = json_object_array_get_idx (list, i);
        gboolean here = json_object_get_boolean (json_object_object_get (a, "here"));
        gboolean sent = json_object_get_boolean (json_object_object_get (a, "on_server"));
        g_autofree char *size = kh_format_size (json_object_get_int64 (json_object_object_get (a, "size")));

        /* id, the record it documents, name, type, size, where the file is. */
        g_print ("%s\t%s %s\t%s\t%s\t%s\t%s\n",
                 json_object_get_string (json_object_object_get (a, "id")),
                 json_object_get_string (json_object_object_get (a, "owner_entity")),
                 json_object_get_string (json_object_object_get (a, "owner_id")),
                 json_object_get_string (json_object_object_get (a, "name")),
                 json_object_get_string (json_object_object_get (a, "media_type")), size,
                 here && sent ? _("here and on the server")
                 : here ? _("here, waiting to be sent")
                 : _("on the server, not here"));
      }
  json_object_put (list);
  return EXIT_OK;
}

/* detach ATTACHMENT_ID: a tombstone like any record's; the local file goes at once if nothing
 * else needs it (kh-attach-collect.c), the server's after the window if nothing else names it. */
static int
cmd_detach (const KhCliCommand  *command,
            int                  argc,
            char               **argv,
            gpointer             data)
{
  KhCliContext *cli = data;
  g_autoptr(GError) error = NULL;

  if (!kh_attach_remove (cli->store, argv[0], &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  return EXIT_OK;
}

/* attachment-save ATTACHMENT_ID FILE: the file as it was attached (the store may be sealed). */
static int
cmd_save (const KhCliCommand  *command,
          int                  argc,
          char               **argv,
          gpointer             data)
{
  KhCliContext *cli = data;
  g_autoptr(GError) error = NULL;
  json_object *a = kh_store_get (cli->store, "attachment", argv[0], &error);
  const char *hash = a != NULL ? json_object_get_string (json_object_object_get (a, "sha256")) : NULL;
  gboolean ok = a != NULL;

  if (ok && !kh_attach_has_file (cli->store, hash))
    {
      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("The file is not on this computer yet: khuyenhoc-cli fetch-attachments ID"));
      ok = FALSE;
    }
  ok = ok && kh_attach_export (cli->store, hash, argv[1], &error);
  json_object_put (a);
  if (!ok)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  return EXIT_OK;
}

const KhCliCommand kh_cli_attach_commands[] = {
  { "attach", N_("attach ENTITY ID FILE [--name NAME]"),
    N_("attach a JPEG, PNG or PDF file to a record; it is sent with the next sync"), 0, -1, cmd_attach, NULL },
  { "attachments", N_("attachments [RECORD_ID]"), N_("the files attached, and whether each is here"), 0, 1,
    cmd_attachments, NULL },
  { "detach", N_("detach ATTACHMENT_ID"), N_("remove an attachment (a tombstone, can be restored)"), 1, 1,
    cmd_detach, NULL },
  { "attachment-save", N_("attachment-save ATTACHMENT_ID FILE"), N_("write an attached file out"), 2, 2,
    cmd_save, NULL },
  { NULL, NULL, NULL, 0, 0, NULL, NULL }
};

void
kh_cli_attach_usage (FILE *out)
{
  fprintf (out, "\n");
  kh_cli_print_commands (out, _("Attached files:"), kh_cli_attach_commands);
}
