/* kh-test-http-server.c: a small HTTP server inside a test, answering what the test says
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kh-test-http-server.h"

char *
test_server_header (const char *head,
                    const char *name)
{
  g_auto(GStrv) lines = g_strsplit (head, "\r\n", -1);
  gsize n = strlen (name);

  for (guint i = 1; lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (lines[i], name, n) == 0 && lines[i][n] == ':')
      return g_strstrip (g_strdup (lines[i] + n + 1));
  return NULL;
}

static gboolean
send_all (GSocket      *conn,
          const guint8 *data,
          gsize         len,
          GCancellable *stop)
{
  while (len > 0)
    {
      gssize n = g_socket_send (conn, (const char *) data, len, stop, NULL);

      if (n <= 0)
        return FALSE;
      data += n;
      len -= n;
    }
  return TRUE;
}

static void
serve_connection (TestServer *s,
                  GSocket    *conn)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autofree char *length = NULL;
  g_autofree char *head = NULL;
  g_autoptr(GBytes) answer = NULL;
  gboolean have_head = FALSE;
  gsize head_len = 0;
  gsize body_len = 0;
  char buf[16384];

  g_socket_set_timeout (conn, 20);
  while (!have_head || in->len < head_len + body_len)
    {
      gssize n = g_socket_receive (conn, buf, sizeof buf, s->stop, NULL);
      const char *end;

      if (n <= 0)
        return;
      g_byte_array_append (in, (const guint8 *) buf, n);
      end = have_head ? NULL : g_strstr_len ((const char *) in->data, in->len, "\r\n\r\n");
      if (end != NULL)
        {
          have_head = TRUE;
          head_len = end - (const char *) in->data + 4;
          head = g_strndup ((const char *) in->data, head_len - 4);
          length = test_server_header (head, "Content-Length");
          body_len = length != NULL ? g_ascii_strtoull (length, NULL, 10) : 0;
        }
    }

  g_mutex_lock (&s->lock);
  s->requests++;
  s->bytes_in += in->len;
  g_free (s->head);
  s->head = g_steal_pointer (&head);
  g_clear_pointer (&s->body, g_bytes_unref);
  s->body = g_bytes_new (in->data + head_len, body_len);
  if (s->hold)
    {
      s->holding = TRUE;
      g_cond_broadcast (&s->cond);
      while (!g_cancellable_is_cancelled (s->stop))
        g_cond_wait (&s->cond, &s->lock);
    }
  if (s->handler != NULL)
    {
      TestServerHandler handler = s->handler;
      gpointer data = s->handler_data;
      g_autofree char *request_head = g_strdup (s->head);
      g_autoptr(GBytes) request_body = g_bytes_ref (s->body);

      g_mutex_unlock (&s->lock);
      answer = handler (request_head, request_body, data);
      g_mutex_lock (&s->lock);
    }
  else
    answer = s->answer != NULL ? g_bytes_ref (s->answer) : NULL;
  /* Counted before it is sent: the client may have read it all before send() returns here. */
  if (answer != NULL)
    s->bytes_out += g_bytes_get_size (answer);
  g_mutex_unlock (&s->lock);

  if (answer != NULL)
    send_all (conn, g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), s->stop);
}

static gpointer
server_thread (gpointer data)
{
  TestServer *s = data;

  while (!g_cancellable_is_cancelled (s->stop))
    {
      g_autoptr(GSocket) conn = g_socket_accept (s->listener, s->stop, NULL);

      if (conn == NULL)
        break;
      serve_connection (s, conn);
      g_socket_close (conn, NULL);
    }
  return NULL;
}

GSocket *
test_server_bind_local (int      *port,
                        gboolean  listen)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (sock, any, FALSE, &error));
  g_assert_no_error (error);
  if (listen)
    {
      g_assert_true (g_socket_listen (sock, &error));
      g_assert_no_error (error);
    }
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return sock;
}

TestServer *
test_server_new (void)
{
  TestServer *s = g_new0 (TestServer, 1);

  g_mutex_init (&s->lock);
  g_cond_init (&s->cond);
  s->stop = g_cancellable_new ();
  s->listener = test_server_bind_local (&s->port, TRUE);
  s->base = g_strdup_printf ("http://127.0.0.1:%d", s->port);
  s->thread = g_thread_new ("test-http-server", server_thread, s);
  return s;
}

void
test_server_free (TestServer *s)
{
  g_mutex_lock (&s->lock);
  g_cancellable_cancel (s->stop);
  g_cond_broadcast (&s->cond);
  g_mutex_unlock (&s->lock);
  g_thread_join (s->thread);
  g_socket_close (s->listener, NULL);
  g_object_unref (s->listener);
  g_object_unref (s->stop);
  g_clear_pointer (&s->answer, g_bytes_unref);
  g_clear_pointer (&s->body, g_bytes_unref);
  g_free (s->head);
  g_free (s->base);
  g_mutex_clear (&s->lock);
  g_cond_clear (&s->cond);
  g_free (s);
}

GBytes *
test_server_response (int         status,
                      const char *headers,
                      const void *body,
                      gsize       len)
{
  GByteArray *raw = g_byte_array_new ();
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 %d Test\r\n"
                                           "Content-Type: application/json\r\n"
                                           "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                                           "Connection: close\r\n"
                                           "%s\r\n",
                                           status, len, headers ? headers : "");

  g_byte_array_append (raw, (const guint8 *) head, strlen (head));
  g_byte_array_append (raw, body, len);
  return g_byte_array_free_to_bytes (raw);
}

void
test_server_answer (TestServer *s,
                    int         status,
                    const char *headers,
                    const void *body,
                    gsize       len)
{
  GBytes *answer = test_server_response (status, headers, body, len);

  g_mutex_lock (&s->lock);
  g_clear_pointer (&s->answer, g_bytes_unref);
  s->answer = answer;
  g_mutex_unlock (&s->lock);
}

void
test_server_set_handler (TestServer        *s,
                         TestServerHandler  handler,
                         gpointer           user_data)
{
  g_mutex_lock (&s->lock);
  s->handler = handler;
  s->handler_data = user_data;
  g_mutex_unlock (&s->lock);
}

void
test_server_answer_text (TestServer *s,
                         int         status,
                         const char *text)
{
  test_server_answer (s, status, NULL, text, strlen (text));
}

guint
test_server_requests (TestServer *s)
{
  guint n;

  g_mutex_lock (&s->lock);
  n = s->requests;
  g_mutex_unlock (&s->lock);
  return n;
}

