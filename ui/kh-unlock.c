/* kh-unlock.c: the window finds the key of its replica, asking for a passphrase if it must
 *
 * The key comes from the keyring when there is one (sync/kh-replica-key.c): nothing is asked.
 * Without one, a dialog asks for the passphrase of the key file beside the replica, or for a new
 * passphrase (twice) to protect a new key; a wrong one is said, and asked again. A lost key is
 * explained, and the application does not open the replica. KHUYENHOC_PASSPHRASE answers
 * instead of a person (scripts, tests).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-crypt-key.h"
#include "kh-replica-key.h"
#include "kh-unlock.h"

typedef struct
{
  GtkApplication   *app;
  char             *path;
  KhUnlockDone      done;
  gpointer          user_data;
  KhReplicaKeyNeed  need;
  GtkWidget        *entry;
  GtkWidget        *again;
} Unlock;

static void
unlock_free (Unlock *u)
{
  g_object_unref (u->app);
  g_free (u->path);
  g_free (u);
}

static void ask (Unlock     *u,
                 const char *problem);

static void
finish (Unlock   *u,
        gboolean  opened)
{
  u->done (opened, u->user_data);
  unlock_free (u);
}

static void
show_failure (Unlock     *u,
              const char *message)
{
  GtkWidget *dialog = adw_message_dialog_new (NULL, _("The Database Cannot Be Opened"), message);

  gtk_window_set_application (GTK_WINDOW (dialog), u->app);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Tries @passphrase (NULL: the keyring), and goes on: opens, asks, or says why it cannot. */
static void
try_passphrase (Unlock     *u,
                const char *passphrase)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *key_file = kh_crypt_key_file (u->path);

  if (kh_replica_key_unlock (u->path, passphrase, &u->need, &error))
    {
      if (u->need == KH_REPLICA_KEY_OPEN)
        finish (u, TRUE);
      else
        ask (u, NULL);
      return;
    }
  /* A wrong passphrase (there is a key file) is asked again; a lost key is final. */
  if (passphrase != NULL && g_file_test (key_file, G_FILE_TEST_EXISTS))
    {
      ask (u, error->message);
      return;
    }
  show_failure (u, error->message);
  finish (u, FALSE);
}

static void
response_cb (AdwMessageDialog *dialog,
             const char       *response,
             Unlock           *u)
{
  g_autofree char *passphrase = NULL;

  if (g_strcmp0 (response, "open") != 0)
    {
      finish (u, FALSE);
      return;
    }
  passphrase = g_strdup (gtk_editable_get_text (GTK_EDITABLE (u->entry)));
  if (u->need == KH_REPLICA_KEY_NEW_PASSPHRASE
      && (passphrase[0] == '\0'
          || strcmp (passphrase, gtk_editable_get_text (GTK_EDITABLE (u->again))) != 0))
    {
      ask (u, _("The two passphrases differ, or are empty: nothing was changed."));
      return;
    }
  try_passphrase (u, passphrase);
  memset (passphrase, 0, strlen (passphrase));
}

static GtkWidget *
password_entry (const char *placeholder)
{
  GtkWidget *entry = gtk_password_entry_new ();

  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (entry), TRUE);
  g_object_set (entry, "placeholder-text", placeholder, "activates-default", TRUE, NULL);
  return entry;
}

/* The dialog that asks for the passphrase, with @problem said above it if there is one. */
static void
ask (Unlock     *u,
     const char *problem)
{
  gboolean fresh = u->need == KH_REPLICA_KEY_NEW_PASSPHRASE;
  g_autofree char *body = NULL;
  GtkWidget *dialog;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

  if (fresh)
    body = g_strdup_printf (_("The records in “%s” are kept encrypted, and there is no keyring "
                              "on this computer to keep their key. Choose a passphrase to "
                              "protect it: it will be asked each time the database is opened. "
                              "Without it, changes not yet sent to the server cannot be "
                              "recovered."), u->path);
  else
    body = g_strdup_printf (_("The records in “%s” are encrypted. Type the passphrase that "
                              "protects their key."), u->path);
  if (problem != NULL)
    {
      char *both = g_strdup_printf ("%s\n\n%s", problem, body);

      g_free (body);
      body = both;
    }
  dialog = adw_message_dialog_new (NULL, fresh ? _("Protect the Records") : _("Open the Records"), body);
  gtk_window_set_application (GTK_WINDOW (dialog), u->app);
  gtk_widget_set_name (dialog, "unlock-dialog");
  u->entry = password_entry (fresh ? _("New passphrase") : _("Passphrase"));
  gtk_box_append (GTK_BOX (box), u->entry);
  u->again = NULL;
  if (fresh)
    {
      u->again = password_entry (_("The same passphrase again"));
      gtk_box_append (GTK_BOX (box), u->again);
    }
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Quit"),
                                    "open", fresh ? _("_Protect") : _("_Open"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "open",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "open");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (response_cb), u);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (u->entry);
}

/* Finds the key of @db_path and calls @done: at once with the keyring or
 * KHUYENHOC_PASSPHRASE, after a dialog otherwise. */
void
kh_unlock_replica (GtkApplication *app,
                   const char     *db_path,
                   KhUnlockDone    done,
                   gpointer        user_data)
{
  Unlock *u = g_new0 (Unlock, 1);
  const char *env = g_getenv ("KHUYENHOC_PASSPHRASE");

  u->app = g_object_ref (app);
  u->path = g_strdup (db_path);
  u->done = done;
  u->user_data = user_data;
  try_passphrase (u, env != NULL && env[0] != '\0' ? env : NULL);
}
