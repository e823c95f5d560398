/* fuzz-server.c: the server's request handling must never crash, hang or read out of bounds,
 * whatever a client sends
 *
 * The whole front runs in this process: the HTTP front (libmicrohttpd and kh-server-http.c)
 * over the protocol's core, on a throwaway SQLite database with the standard little tree (P ⊃
 * A, B) and three accounts. An input is one request, written as
 *
 *   METHOD URL
 *   Header: value
 *   …
 *   (an empty line)
 *   body
 *
 * and sent as HTTP/1.1 on a new connection; "@ADMIN@", "@OFFICER@" and "@VIEWER@" anywhere in
 * it become the tokens of those accounts, so the fuzzer reaches what lies behind the login.
 * Content-Length is added when the input has none. An input that is not of this form is sent
 * as it is, to fuzz the HTTP parsing too. Whatever the answer, it must be HTTP.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kh-server-core.h"
#include "kh-server-http.h"
#include "kh-server-import.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

typedef struct
{
  char         *dir;
  KhServer     *server;
  KhHttpServer *http;
  guint16       port;
  char         *tokens[3];  /* admin, officer, viewer */
} Fixture;

static Fixture fixture;

/* Sends @request on a new connection and returns the whole answer (the server closes, or 5 s
 * pass). */
static GString *
exchange (const char *request,
          gsize       len)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (fixture.port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  GString *answer = g_string_new (NULL);
  gsize sent = 0;
  char buf[65536];

  g_assert (fd >= 0);
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0)
    g_error ("cannot connect to the server: %s", g_strerror (errno));
  while (sent < len)
    {
      ssize_t n = send (fd, request + sent, len - sent, MSG_NOSIGNAL);

      if (n <= 0)
        break;  /* the server may answer and close before it has read everything */
      sent += (gsize) n;
    }
  shutdown (fd, SHUT_WR);
  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      ssize_t n;

      if (poll (&p, 1, 5000) <= 0)
        break;
      n = recv (fd, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      g_string_append_len (answer, buf, n);
    }
  close (fd);
  return answer;
}

static char *
login (const char *user)
{
  g_autofree char *body = g_strdup_printf ("{\"username\": \"%s\", \"password\": \"password-%s\"}", user, user);
  g_autofree char *request = g_strdup_printf ("POST /v1/login HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n"
                                              "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                              strlen (body), body);
  g_autoptr(GString) answer = exchange (request, strlen (request));
  const char *token = strstr (answer->str, "\"token\":");
  const char *start;
  const char *end;

  g_assert (token != NULL);
  start = strchr (token + 8, '"');
  g_assert (start != NULL);
  end = strchr (start + 1, '"');
  g_assert (end != NULL);
  return g_strndup (start + 1, (gsize) (end - start - 1));
}

static void
remove_dir (void)
{
  g_autoptr(GDir) d = NULL;
  const char *name;

  kh_http_server_stop (fixture.http);
  g_clear_object (&fixture.server);
  d = g_dir_open (fixture.dir, 0, NULL);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture.dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (fixture.dir);
}

static void
set_up (void)
{
  static const char *users[][3] = {
    { "admin", "admin", "P" }, { "officer", "officer", "A" }, { "viewer", "viewer", "A" },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autofree char *csv = NULL;
  KhServerImportReport report;
  KhHttpLimits limits;

  fixture.dir = g_dir_make_tmp ("kh-fuzz-server-XXXXXX", &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("sqlite:%s/server.db", fixture.dir);
  fixture.server = kh_server_new (url, 2, &error);
  g_assert_no_error (error);
  g_assert (kh_server_init_schema (fixture.server, &error));

  csv = g_build_filename (fixture.dir, "units.csv", NULL);
  g_assert (g_file_set_contents (csv,
    "code,name,kind,parent_code,valid_from\n"
    "P,Tỉnh Thử,province,,2025-07-01\n"
    "A,Xã A,commune,P,2025-07-01\n"
    "B,Xã B,commune,P,2025-07-01\n", -1, NULL));
  kh_server_import_report_init (&report);
  g_assert (kh_server_import_org (fixture.server, csv, &report, &error));
  g_assert_no_error (error);
  kh_server_import_report_clear (&report);
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree char *password = g_strdup_printf ("password-%s", users[i][0]);

      g_assert (kh_server_user_add (fixture.server, users[i][0], users[i][1], users[i][2], password, &error));
    }

  kh_http_limits_init (&limits);
  limits.threads = 2;
  /* An input that announces more than it sends is answered (or dropped) after a second. */
  limits.request_seconds = 1;
  fixture.http = kh_http_server_start (fixture.server, "127.0.0.1:0", &limits, &fixture.port, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    fixture.tokens[i] = login (users[i][0]);
  atexit (remove_dir);
}

/* The input as a request: tokens in place, the request line and headers ended by CRLF, and a
 * Content-Length when there is a body and none was given. */
static GString *
make_request (const char *text,
              gsize       len)
{
  static const char *names[] = { "@ADMIN@", "@OFFICER@", "@VIEWER@" };
  GString *in = g_string_new_len (text, (gssize) len);
  GString *out;
  const char *blank;
  const char *nl;
  gsize head_len;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_string_replace (in, names[i], fixture.tokens[i], 0);
  nl = memchr (in->str, '\n', in->len);
  /* Not of the input's form: as it is. */
  if (nl == NULL || memchr (in->str, ' ', (gsize) (nl - in->str)) == NULL
      || g_strstr_len (in->str, (gssize) in->len, " HTTP/") != NULL)
    {
      /* Ended, so that libmicrohttpd answers now rather than wait for more until its timeout
       * (it does not give up on a half-closed connection). */
      if (g_strstr_len (in->str, (gssize) in->len, "\r\n\r\n") == NULL)
        g_string_append (in, "\r\n\r\n");
      return in;
    }

  blank = g_strstr_len (in->str, (gssize) in->len, "\n\n");
  head_len = blank != NULL ? (gsize) (blank - in->str) : in->len;
  out = g_string_new (NULL);
  g_string_append_len (out, in->str, nl - in->str);
  g_string_append (out, " HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n");
  if ((gsize) (nl - in->str) + 1 < head_len)
    {
      g_autofree char *headers = g_strndup (nl + 1, head_len - (gsize) (nl - in->str) - 1);
      g_auto(GStrv) lines = g_strsplit (headers, "\n", -1);

      for (guint i = 0; lines[i] != NULL; i++)
        g_string_append_printf (out, "%s\r\n", lines[i]);
    }
  if (blank != NULL)
    {
      const char *body = blank + 2;
      gsize body_len = in->len - (gsize) (body - in->str);

      if (g_strstr_len (in->str, (gssize) head_len, "Content-Length") == NULL
          && g_strstr_len (in->str, (gssize) head_len, "content-length") == NULL)
        g_string_append_printf (out, "Content-Length: %zu\r\n", body_len);
      g_string_append (out, "\r\n");
      g_string_append_len (out, body, (gssize) body_len);
    }
  else
    g_string_append (out, "\r\n");
  g_string_free (in, TRUE);
  return out;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GString) request = NULL;
  g_autoptr(GString) answer = NULL;

  if (fixture.server == NULL)
    set_up ();
  request = make_request ((const char *) data, size);
  answer = exchange (request->str, request->len);
  /* Nothing at all is a fair answer to some garbage (libmicrohttpd closes); anything else is
   * HTTP. */
  if (answer->len > 0 && !g_str_has_prefix (answer->str, "HTTP/1."))
    g_error ("the server answered something that is not HTTP: %.64s", answer->str);
  return 0;
}
