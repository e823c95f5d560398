/* kh-credentials.c: where the sync token is kept
 *
 * In the desktop keyring through libsecret when the build has it and a keyring answers. Where
 * none runs (the CLI on a server, tests) or KHUYENHOC_TOKEN_STORE=file is set, the token goes to
 * a file next to the database, "<database>.token", created with permissions 0600 (readable by
 * its owner only) and replaced atomically; README.md says so. The token is never written
 * anywhere else, and never logged.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBSECRET
#include <libsecret/secret.h>
#endif

#include "kh-credentials.h"

#ifdef HAVE_LIBSECRET
static const SecretSchema *
token_schema (void)
{
  static const SecretSchema schema = {
    "vn.khuyenhoc.KhuyenHoc.Token", SECRET_SCHEMA_NONE,
    {
      { "database", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };
  return &schema;
}
#endif

static gboolean
use_keyring (void)
{
#ifdef HAVE_LIBSECRET
  return g_strcmp0 (g_getenv ("KHUYENHOC_TOKEN_STORE"), "file") != 0
         && g_getenv ("DBUS_SESSION_BUS_ADDRESS") != NULL;
#else
  return FALSE;
#endif
}

char *
kh_credentials_file (const char *db_path)
{
  return g_strconcat (db_path, ".token", NULL);
}

static gboolean
store_file (const char  *db_path,
            const char  *token,
            GError     **error)
{
  g_autofree char *path = kh_credentials_file (db_path);
  g_autofree char *tmp = g_strconcat (path, ".new", NULL);
  size_t len = strlen (token);
  int fd;

  g_unlink (tmp);
  fd = g_open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Could not save the sign-in token in “%s”: %s"), path, g_strerror (saved));
      return FALSE;
    }
  if (write (fd, token, len) != (ssize_t) len || fsync (fd) != 0)
    {
      int saved = errno;

      close (fd);
      g_unlink (tmp);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Could not save the sign-in token in “%s”: %s"), path, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  if (g_rename (tmp, path) != 0)
    {
      int saved = errno;

      g_unlink (tmp);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Could not save the sign-in token in “%s”: %s"), path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

gboolean
kh_credentials_store (const char  *db_path,
                      const char  *server_url,
                      const char  *username,
                      const char  *token,
                      GError     **error)
{
#ifdef HAVE_LIBSECRET
  if (use_keyring ())
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *label = g_strdup_printf ("Khuyến Học: %s @ %s", username, server_url);

      if (secret_password_store_sync (token_schema (), SECRET_COLLECTION_DEFAULT, label, token,
                                      NULL, &local_error, "database", db_path, "server", server_url,
                                      "username", username, NULL))
        {
          g_autofree char *path = kh_credentials_file (db_path);

          g_unlink (path);
          return TRUE;
        }
      g_debug ("no keyring (%s); keeping the token in a file", local_error->message);
    }
#endif
  return store_file (db_path, token, error);
}

char *
kh_credentials_lookup (const char *db_path,
                       const char *server_url,
                       const char *username)
{
  g_autofree char *path = kh_credentials_file (db_path);
  char *contents = NULL;

#ifdef HAVE_LIBSECRET
  if (use_keyring () && server_url != NULL && username != NULL)
    {
      char *secret = secret_password_lookup_sync (token_schema (), NULL, NULL,
                                                  "database", db_path, "server", server_url,
                                                  "username", username, NULL);
      if (secret != NULL)
        {
          char *copy = g_strdup (secret);

          secret_password_free (secret);
          return copy;
        }
    }
#endif
  if (g_file_get_contents (path, &contents, NULL, NULL))
    {
      g_strstrip (contents);
      if (contents[0] != '\0')
        return contents;
      g_free (contents);
    }
  return NULL;
}

void
kh_credentials_clear (const char *db_path,
                      const char *server_url,
                      const char *username)
{
  g_autofree char *path = kh_credentials_file (db_path);

#ifdef HAVE_LIBSECRET
  if (use_keyring () && server_url != NULL && username != NULL)
    secret_password_clear_sync (token_schema (), NULL, NULL, "database", db_path,
                                "server", server_url, "username", username, NULL);
#endif
  g_unlink (path);
}
