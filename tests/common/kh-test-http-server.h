/* kh-test-http-server.h: a small HTTP server inside a test, answering what the test says
 *
 * The real server always answers well; this one answers exactly what a test sets (any status,
 * any encoding, nonsense, nothing at all), to every request or per request through a handler,
 * and keeps what the client sent. One connection at a time, closed after each answer, on a
 * free port of 127.0.0.1.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _TestServer TestServer;

/* Makes the whole HTTP response to one request (its line and headers in @head, without the
 * blank line; its body as sent), or NULL to answer nothing. Runs on the server's thread. */
typedef GBytes *(*TestServerHandler) (const char *head,
                                      GBytes     *body,
                                      gpointer    user_data);

/* Everything below the lock is shared with the server's thread. */
struct _TestServer
{
  GSocket          *listener;
  int               port;
  char             *base;
  GThread          *thread;
  GCancellable     *stop;

  GMutex            lock;
  GCond             cond;
  GBytes           *answer;     /* the whole HTTP response to every request */
  TestServerHandler handler;    /* when set, makes each answer instead */
  gpointer          handler_data;
  gboolean          hold;       /* read the request, then answer nothing until the server stops */
  gboolean          holding;    /* a held request has arrived */
  guint             requests;
  char             *head;       /* the last request's line and headers */
  GBytes           *body;       /* the last request's body, as sent */
  guint64           bytes_in;   /* everything read from clients */
  guint64           bytes_out;  /* everything sent to them */
};

TestServer *test_server_new         (void);
void        test_server_free        (TestServer        *s);
/* Every request from now on gets status @status, the extra header lines @headers (each ending
 * in "\r\n") and @body. */
void        test_server_answer      (TestServer        *s,
                                     int                status,
                                     const char        *headers,
                                     const void        *body,
                                     gsize              len);
void        test_server_answer_text (TestServer        *s,
                                     int                status,
                                     const char        *text);
/* Every request from now on is answered by @handler. */
void        test_server_set_handler (TestServer        *s,
                                     TestServerHandler  handler,
                                     gpointer           user_data);
guint       test_server_requests    (TestServer        *s);

/* A whole HTTP response, as test_server_answer() makes it. */
GBytes     *test_server_response    (int                status,
                                     const char        *headers,
                                     const void        *body,
                                     gsize              len);
/* The value of header @name in @head, or NULL. */
char       *test_server_header      (const char        *head,
                                     const char        *name);
/* A socket bound to a free port of 127.0.0.1; with @listen, accepting. */
GSocket    *test_server_bind_local  (int               *port,
                                     gboolean           listen);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestServer, test_server_free)

G_END_DECLS
