/* kh-server-gate.c: the clients' side of every connection, between them and libmicrohttpd
 *
 * libmicrohttpd answers some requests itself, in HTML, before the server sees them: an
 * unsupported HTTP version, a malformed or overflowing Content-Length, a header line without
 * a colon, a missing Host, headers beyond its memory, malformed chunks; no option or callback
 * of its 0.9.75 replaces those pages. The protocol's answers are all JSON (PROTOCOL.md §1), so
 * libmicrohttpd never reads a client's socket: this gate accepts every connection, speaks TLS
 * with it when the server has a certificate, and gives libmicrohttpd one end of a socket pair
 * instead (MHD_add_connection()). Every request passes through here on its way: its head is
 * checked whole before any of it passes on, a body with its length is counted through, and
 * a body in chunks is checked chunk by chunk. What libmicrohttpd would refuse is refused here,
 * in JSON: nothing more of the connection passes on, libmicrohttpd's end is shut, and when it
 * has answered the requests before (and closed), the refusal follows their answers, in order.
 * Answers pass back as they are. libmicrohttpd tells kh_http_gate_answered() of each request
 * it answered whole, so that a request whose body turned out malformed after libmicrohttpd
 * had already answered it (at its headers) is not answered twice.
 *
 * Until its first head is in, a connection is held to the request deadline from its accept,
 * to the connections-per-address limit (through admit()), and, past the connection limit, the
 * ones waiting longest are closed, as the watchdog does for libmicrohttpd's connections; from
 * then on the watchdog's deadlines close libmicrohttpd's end, and with it the connection.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <linux/sockios.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kh-server-gate.h"

/* libmicrohttpd keeps each header and each query argument in a connection's 128 KiB: more
 * than these, small enough to fit the head, would run it out of memory (a page of its own, or
 * no answer at all). The protocol's requests carry a dozen of each. */
#define MAX_HEADER_LINES 256
#define MAX_ARGUMENTS    256

/* The request line holds the URL and a method and version of a few bytes each. */
#define MAX_REQUEST_LINE (KH_HTTP_MAX_URL + 64)
#define MAX_HEAD         (MAX_REQUEST_LINE + KH_HTTP_MAX_HEADERS)
/* Over the limit, a connection waiting longer than this for its head may be closed. */
#define SHED_AFTER       (G_USEC_PER_SEC / 2)
/* A refused connection is read and dropped for this long after its answer, so that closing
 * it with bytes unread does not reset it before the client reads the answer. */
#define LINGER           (2 * G_USEC_PER_SEC)

/* The head -------------------------------------------------------------------------------- */

static KhHeadVerdict
refuse (KhHeadRefusal *refusal,
        guint          status,
        KhSyncError    code,
        const char    *message)
{
  refusal->status = status;
  refusal->code = code;
  refusal->message = message;
  return KH_HEAD_REFUSE;
}

static KhHeadVerdict
malformed (KhHeadRefusal *refusal)
{
  return refuse (refusal, 400, KH_SYNC_ERROR_INVALID, _("The request is not well-formed HTTP/1.1."));
}

/* RFC 9110's token characters: a method and a header's name. */
static gboolean
is_tchar (guchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The line at @p (up to @end), without its CR LF or LF: its length, and @next after it; -1
 * when its end has not arrived. */
static gssize
line_at (const char  *p,
         const char  *end,
         const char **next)
{
  const char *lf = memchr (p, '\n', (gsize) (end - p));

  if (lf == NULL)
    return -1;
  *next = lf + 1;
  return lf > p && lf[-1] == '\r' ? lf - p - 1 : lf - p;
}

/* Checks the request line @line (@len bytes, complete); *@needs_host for HTTP/1.1 and later,
 * which libmicrohttpd refuses without a Host header. */
static KhHeadVerdict
check_request_line (const char    *line,
                    gsize          len,
                    gboolean      *needs_host,
                    KhHeadRefusal *refusal)
{
  const char *sp1 = memchr (line, ' ', len);
  const char *sp2 = line + len;
  const char *version;
  gsize vlen;
  guint arguments = 0;

  if (sp1 == NULL || sp1 == line)
    return malformed (refusal);
  /* The last space: the version follows it. */
  while (sp2[-1] != ' ')
    sp2--;
  sp2--;
  if (sp2 == sp1)
    return malformed (refusal);
  for (const char *p = line; p < sp1; p++)
    if (!is_tchar ((guchar) *p))
      return malformed (refusal);
  if ((gsize) (sp2 - sp1 - 1) > KH_HTTP_MAX_URL)
    return refuse (refusal, 414, KH_SYNC_ERROR_TOO_LARGE, _("The URL is too long."));
  for (const char *p = sp1 + 1; p < sp2; p++)
    {
      if ((guchar) *p <= ' ' || *p == 0x7f)
        return malformed (refusal);
      if (*p == '&' && ++arguments >= MAX_ARGUMENTS)
        return refuse (refusal, 414, KH_SYNC_ERROR_TOO_LARGE, _("The URL is too long."));
    }
  version = sp2 + 1;
  vlen = len - (gsize) (version - line);
  if (vlen != 8 || memcmp (version, "HTTP/", 5) != 0 || !g_ascii_isdigit (version[5])
      || version[6] != '.' || !g_ascii_isdigit (version[7]))
    return malformed (refusal);
  /* libmicrohttpd takes any HTTP/1.x as 1.1 would be taken. */
  if (version[5] != '1')
    return refuse (refusal, 505, KH_SYNC_ERROR_INVALID, _("The server speaks HTTP/1.1 only."));
  *needs_host = version[7] != '0';
  return KH_HEAD_PASS;
}

/* Checks a Content-Length value: *length is its number, the first one's. */
static KhHeadVerdict
check_content_length (const char    *value,
                      gsize          len,
                      gboolean      *seen,
                      guint64       *length,
                      KhHeadRefusal *refusal)
{
  guint64 n = 0;

  if (len == 0)
    return malformed (refusal);
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (value[i]))
        return malformed (refusal);
      if (n > (G_MAXUINT64 - (guint64) (value[i] - '0')) / 10)
        return refuse (refusal, 413, KH_SYNC_ERROR_TOO_LARGE, _("The body is too large."));
      n = n * 10 + (guint64) (value[i] - '0');
    }
  /* Two lengths that differ would be read one way here and another by a proxy. */
  if (*seen && n != *length)
    return malformed (refusal);
  *seen = TRUE;
  *length = n;
  return KH_HEAD_PASS;
}

KhHeadVerdict
kh_http_head_check (const char    *buf,
                    gsize          len,
                    KhHead        *head,
                    KhHeadRefusal *refusal)
{
  const char *end = buf + len;
  const char *p = buf;
  const char *next;
  const char *headers;
  gssize n;
  gboolean seen_length = FALSE;
  gboolean chunked = FALSE;
  gboolean needs_host = FALSE;
  gboolean host = FALSE;
  guint lines = 0;
  guint64 length = 0;
  KhHeadVerdict verdict;

  /* Empty lines before a request are skipped, as libmicrohttpd does. */
  while (p < end && (*p == '\r' || *p == '\n'))
    p++;
  n = line_at (p, end, &next);
  if (n < 0)
    {
      /* What has come of the method so far must be a token: a stray TLS handshake or other
       * protocol is told at once, not at its deadline. */
      for (const char *q = p; q < end && *q != ' '; q++)
        if (!is_tchar ((guchar) *q))
          return malformed (refusal);
      if (end - p > MAX_REQUEST_LINE)
        return refuse (refusal, 414, KH_SYNC_ERROR_TOO_LARGE, _("The URL is too long."));
      return KH_HEAD_INCOMPLETE;
    }
  if (memchr (p, '\0', (gsize) n) != NULL)
    return malformed (refusal);
  if ((verdict = check_request_line (p, (gsize) n, &needs_host, refusal)) != KH_HEAD_PASS)
    return verdict;

  headers = p = next;
  for (;;)
    {
      const char *colon;
      const char *value, *value_end;

      n = line_at (p, end, &next);
      if (n < 0)
        {
          if (end - headers > KH_HTTP_MAX_HEADERS)
            return refuse (refusal, 431, KH_SYNC_ERROR_TOO_LARGE, _("The request's headers are too long."));
          return KH_HEAD_INCOMPLETE;
        }
      if (next - headers > KH_HTTP_MAX_HEADERS || ++lines > MAX_HEADER_LINES)
        return refuse (refusal, 431, KH_SYNC_ERROR_TOO_LARGE, _("The request's headers are too long."));
      if (n == 0)
        {
          p = next;
          break;
        }
      if (memchr (p, '\0', (gsize) n) != NULL)
        return malformed (refusal);
      if (*p == ' ' || *p == '\t')
        {
          /* A folded line continues the header before it; there must be one. */
          if (p == headers)
            return malformed (refusal);
          p = next;
          continue;
        }
      colon = memchr (p, ':', (gsize) n);
      if (colon == NULL || colon == p)
        return malformed (refusal);
      for (const char *q = p; q < colon; q++)
        if (!is_tchar ((guchar) *q))
          return malformed (refusal);
      value = colon + 1;
      value_end = p + n;
      while (value < value_end && (*value == ' ' || *value == '\t'))
        value++;
      while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
        value_end--;
      if (colon - p == 14 && g_ascii_strncasecmp (p, "Content-Length", 14) == 0)
        {
          verdict = check_content_length (value, (gsize) (value_end - value), &seen_length,
                                          &length, refusal);
          if (verdict != KH_HEAD_PASS)
            return verdict;
        }
      else if (colon - p == 17 && g_ascii_strncasecmp (p, "Transfer-Encoding", 17) == 0)
        {
          /* Chunks alone, once: libmicrohttpd reads no other coding (it would wait for the
           * body until the deadline). */
          if (chunked || value_end - value != 7 || g_ascii_strncasecmp (value, "chunked", 7) != 0)
            return refuse (refusal, 501, KH_SYNC_ERROR_INVALID,
                           _("The server takes a body as it is or in chunks, in no other transfer coding."));
          chunked = TRUE;
        }
      else if (colon - p == 4 && g_ascii_strncasecmp (p, "Host", 4) == 0)
        host = TRUE;
      p = next;
    }
  /* Chunks override a length sent beside them (RFC 9112, 6.3), as libmicrohttpd reads them;
   * libcurl sends both when a caller sets the length of a body it streams. */
  if (needs_host && !host)
    return malformed (refusal);
  head->length = (gsize) (p - buf);
  head->chunked = chunked;
  head->content_length = chunked ? 0 : length;
  return KH_HEAD_PASS;
}

char *
kh_http_head_answer (const KhHeadRefusal *refusal,
                     gsize               *len)
{
  g_autoptr(json_object) body = kh_codec_error_to_json (refusal->code, refusal->message);
  gsize body_len;
  const char *text = kh_codec_to_string (body, &body_len);
  const char *reason = MHD_get_reason_phrase_for (refusal->status);
  char *answer;

  answer = g_strdup_printf ("HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nConnection: close\r\n"
                            "Content-Length: %zu\r\n\r\n%s", refusal->status,
                            reason != NULL && *reason != '\0' ? reason : "Error", (size_t) body_len, text);
  *len = strlen (answer);
  return answer;
}


/* A body sent in chunks ----------------------------------------------------------------------- */

typedef enum
{
  PART_HEAD,        /* a request's head is next */
  PART_BODY,        /* @left bytes of a body with its length */
  PART_CHUNK_SIZE,  /* a chunk's size line */
  PART_CHUNK_DATA,  /* @left bytes of a chunk */
  PART_CHUNK_END,   /* the CR LF after a chunk's bytes */
  PART_LAST,        /* the CR LF after the last chunk (no trailer is taken) */
} Part;

/* The longest chunk size line: sixteen hex digits and a short extension. */
#define MAX_CHUNK_LINE 256

static KhHeadVerdict
malformed_chunks (KhHeadRefusal *refusal)
{
  return refuse (refusal, 400, KH_SYNC_ERROR_INVALID, _("The request's body is not well-formed chunks."));
}

/* Checks a chunk size line at @buf (@len bytes come); *@used its length and *@size the size. */
static KhHeadVerdict
check_chunk_size (const char    *buf,
                  gsize          len,
                  gsize         *used,
                  guint64       *size,
                  KhHeadRefusal *refusal)
{
  const char *next;
  gssize n = line_at (buf, buf + len, &next);
  gssize i = 0;
  guint digits = 0;

  if (n < 0)
    return len > MAX_CHUNK_LINE ? malformed_chunks (refusal) : KH_HEAD_INCOMPLETE;
  if (n > MAX_CHUNK_LINE || next - buf != n + 2)
    return malformed_chunks (refusal);
  *size = 0;
  for (; i < n && g_ascii_isxdigit (buf[i]); i++)
    {
      /* Leading zeros aside, more than sixteen digits do not fit in 64 bits. */
      if (*size == 0 && buf[i] == '0')
        continue;
      if (++digits > 16)
        return refuse (refusal, 413, KH_SYNC_ERROR_TOO_LARGE, _("The body is too large."));
      *size = *size * 16 + (guint64) g_ascii_xdigit_value (buf[i]);
    }
  if (i == 0)
    return malformed_chunks (refusal);
  /* An extension after ";" is ignored, as libmicrohttpd does; its bytes must be text. */
  if (i < n && buf[i] != ';')
    return malformed_chunks (refusal);
  for (; i < n; i++)
    if ((guchar) buf[i] < ' ' || buf[i] == 0x7f)
      return malformed_chunks (refusal);
  *used = (gsize) (next - buf);
  return KH_HEAD_PASS;
}

/* The gate ------------------------------------------------------------------------------------ */

/* Bytes held from a client before they pass on, and from libmicrohttpd before they are sent. */
#define MAX_IN  (MAX_HEAD + 1)
#define MAX_OUT (64 * 1024)

/* A client's connection: first waiting for its first head, then, handed on, passing requests
 * to libmicrohttpd's end of a socket pair (each head and chunk checked on its way) and
 * answers back, then lingering after the last answer. */
typedef struct
{
  int                      cfd;          /* the client's socket */
  int                      mfd;          /* our end of the pair; -1 while waiting */
  int                      mhd_fd;       /* libmicrohttpd's end */
  gnutls_session_t         tls;          /* NULL over plain HTTP */
  gboolean                 handshaken;
  struct sockaddr_storage  addr;
  socklen_t                addr_len;
  char                    *ticket;       /* while waiting */
  gint64                   since;        /* monotonic µs of its accept */
  gint64                   ended;        /* libmicrohttpd's end closed: when, else 0 */
  gint64                   closing;      /* all sent: lingering since, else 0 */
  GList                    link;         /* in the gate's order while waiting */
  GByteArray              *in;           /* from the client, not passed on yet */
  gsize                    ready;        /* bytes at the start of @in checked, to pass on */
  GByteArray              *out;          /* to the client, not sent yet */
  gsize                    tls_pending;  /* bytes given to a TLS send that must be repeated */
  Part                     part;
  guint64                  left;
  guint                    heads;        /* requests passed on */
  guint                    answered;     /* answered whole by libmicrohttpd (gate->lock) */
  gboolean                 refusing;
  guint                    refused_at;   /* the refused request's number */
  KhHeadRefusal            refusal;
  gboolean                 client_eof;
  gboolean                 mhd_shut;     /* our end's sending side shut */
} Link;

struct _KhHttpGate
{
  KhHttpGateHooks                   hooks;
  int                               listen_fd;
  int                               epoll_fd;
  int                               stop_fd;
  GThread                          *thread;
  GHashTable                       *links;       /* client and pair fds → Link */
  GHashTable                       *all;         /* Link set */
  GMutex                            lock;        /* by_mhd_fd and every Link's answered */
  GHashTable                       *by_mhd_fd;   /* libmicrohttpd's fd → Link */
  guint                             n_waiting;   /* for their first head */
  guint                             n_closing;   /* lingering */
  GQueue                            order;       /* those waiting, the longest waiting first */
  gnutls_certificate_credentials_t  cred;
  gnutls_priority_t                 priority;
};

int
kh_http_gate_listen (const struct sockaddr *addr,
                     socklen_t              addr_len)
{
  int fd = socket (addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1, zero = 0;
  int saved;

  if (fd < 0)
    return -1;
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* [::] takes IPv4 clients too. */
  if (addr->sa_family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (bind (fd, addr, addr_len) == 0 && listen (fd, 1024) == 0)
    return fd;
  saved = errno;
  close (fd);
  errno = saved;
  return -1;
}

static void
stop_waiting (KhHttpGate *gate,
              Link       *l)
{
  if (l->link.data == NULL)
    return;
  g_queue_unlink (&gate->order, &l->link);
  l->link.data = NULL;
  gate->n_waiting--;
  gate->hooks.release (gate->hooks.data, g_steal_pointer (&l->ticket));
}

static void
drop (KhHttpGate *gate,
      Link       *l)
{
  stop_waiting (gate, l);
  if (l->closing != 0)
    gate->n_closing--;
  epoll_ctl (gate->epoll_fd, EPOLL_CTL_DEL, l->cfd, NULL);
  g_hash_table_remove (gate->links, GINT_TO_POINTER (l->cfd));
  close (l->cfd);
  if (l->mfd >= 0)
    {
      g_mutex_lock (&gate->lock);
      if (g_hash_table_lookup (gate->by_mhd_fd, GINT_TO_POINTER (l->mhd_fd)) == l)
        g_hash_table_remove (gate->by_mhd_fd, GINT_TO_POINTER (l->mhd_fd));
      g_mutex_unlock (&gate->lock);
      epoll_ctl (gate->epoll_fd, EPOLL_CTL_DEL, l->mfd, NULL);
      g_hash_table_remove (gate->links, GINT_TO_POINTER (l->mfd));
      close (l->mfd);
    }
  if (l->tls != NULL)
    gnutls_deinit (l->tls);
  g_clear_pointer (&l->in, g_byte_array_unref);
  g_clear_pointer (&l->out, g_byte_array_unref);
  g_hash_table_remove (gate->all, l);
  g_free (l);
}

static void
watch (KhHttpGate *gate,
       Link       *l,
       int         fd)
{
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };

  ev.data.fd = fd;
  g_hash_table_insert (gate->links, GINT_TO_POINTER (fd), l);
  epoll_ctl (gate->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

/* The first head passed: libmicrohttpd gets its end of a new socket pair. */
static gboolean
hand_on (KhHttpGate *gate,
         Link       *l)
{
  int pair[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0)
    return FALSE;
  stop_waiting (gate, l);
  l->mfd = pair[0];
  l->mhd_fd = pair[1];
  g_mutex_lock (&gate->lock);
  /* A number libmicrohttpd closed may come back before its old link has read the end. */
  g_hash_table_insert (gate->by_mhd_fd, GINT_TO_POINTER (l->mhd_fd), l);
  g_mutex_unlock (&gate->lock);
  watch (gate, l, l->mfd);
  gate->hooks.hand (gate->hooks.data, l->mhd_fd, (struct sockaddr *) &l->addr, l->addr_len);
  return TRUE;
}

static void
append (GByteArray **buf,
        const void  *data,
        gsize        len)
{
  if (*buf == NULL)
    *buf = g_byte_array_sized_new ((guint) MAX (len, 4096));
  g_byte_array_append (*buf, data, (guint) len);
}

/* Takes @n bytes from the start of @buf; an empty buffer is let go, so that an idle
 * connection holds no memory here. */
static void
consume (GByteArray **buf,
         gsize        n)
{
  if (n >= (*buf)->len)
    g_clear_pointer (buf, g_byte_array_unref);
  else
    g_byte_array_remove_range (*buf, 0, (guint) n);
}

/* Refuses the @at-th request: nothing more passes on, and once libmicrohttpd has answered the
 * ones before it (its end then closes), the refusal follows them. */
static void
refuse_request (KhHttpGate          *gate,
                Link                *l,
                guint                at,
                const KhHeadRefusal *refusal)
{
  l->refusing = TRUE;
  l->refused_at = at;
  l->refusal = *refusal;
  if (l->in != NULL)
    g_byte_array_set_size (l->in, (guint) l->ready);
  if (l->mfd < 0)
    {
      gsize len;
      g_autofree char *text = kh_http_head_answer (refusal, &len);

      stop_waiting (gate, l);
      append (&l->out, text, len);
      l->ended = g_get_monotonic_time ();
    }
}

/* Checks what came from the client past l->ready: heads, bodies and chunks. */
static gboolean
check_in (KhHttpGate *gate,
          Link       *l)
{
  gsize before = l->ready;
  gboolean was_refusing = l->refusing;

  while (!l->refusing && l->in != NULL && l->ready < l->in->len)
    {
      const char *p = (const char *) l->in->data + l->ready;
      gsize len = l->in->len - l->ready;
      KhHeadRefusal refusal;
      KhHeadVerdict verdict = KH_HEAD_PASS;
      KhHead head;
      gsize used = 0;
      guint64 size = 0;

      switch (l->part)
        {
        case PART_HEAD:
          verdict = kh_http_head_check (p, len, &head, &refusal);
          if (verdict == KH_HEAD_PASS)
            {
              if (l->mfd < 0 && !hand_on (gate, l))
                {
                  drop (gate, l);
                  return FALSE;
                }
              l->heads++;
              l->ready += head.length;
              l->left = head.content_length;
              l->part = head.chunked ? PART_CHUNK_SIZE : head.content_length > 0 ? PART_BODY : PART_HEAD;
            }
          break;
        case PART_BODY:
        case PART_CHUNK_DATA:
          used = (gsize) MIN ((guint64) len, l->left);
          l->ready += used;
          l->left -= used;
          if (l->left == 0)
            l->part = l->part == PART_BODY ? PART_HEAD : PART_CHUNK_END;
          break;
        case PART_CHUNK_SIZE:
          verdict = check_chunk_size (p, len, &used, &size, &refusal);
          if (verdict == KH_HEAD_PASS)
            {
              l->ready += used;
              l->left = size;
              l->part = size > 0 ? PART_CHUNK_DATA : PART_LAST;
            }
          break;
        case PART_CHUNK_END:
        case PART_LAST:
          if (len < 2 && p[0] == '\r')
            verdict = KH_HEAD_INCOMPLETE;
          else if (p[0] != '\r' || len < 2 || p[1] != '\n')
            verdict = l->part == PART_LAST
                      ? refuse (&refusal, 400, KH_SYNC_ERROR_INVALID,
                                _("The server takes no trailer after the last chunk."))
                      : malformed_chunks (&refusal);
          else
            {
              l->ready += 2;
              l->part = l->part == PART_LAST ? PART_HEAD : PART_CHUNK_SIZE;
            }
          break;
        default:
          g_assert_not_reached ();
        }
      if (verdict == KH_HEAD_INCOMPLETE)
        break;
      if (verdict == KH_HEAD_REFUSE)
        refuse_request (gate, l, l->part == PART_HEAD ? l->heads + 1 : l->heads, &refusal);
    }
  return l->ready != before || l->refusing != was_refusing;
}

/* Reads from the client into @buf: bytes, 0 at its end, -1 to wait, -2 on an error. */
static gssize
client_recv (Link  *l,
             void  *buf,
             gsize  len)
{
  if (l->tls != NULL)
    {
      gssize n = gnutls_record_recv (l->tls, buf, len);

      if (n >= 0)
        return n;
      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        return -1;
      return n == GNUTLS_E_PREMATURE_TERMINATION ? 0 : -2;
    }
  else
    {
      gssize n = recv (l->cfd, buf, len, MSG_DONTWAIT);

      if (n >= 0)
        return n;
      return errno == EAGAIN || errno == EINTR ? -1 : -2;
    }
}

/* Sends from l->out to the client: bytes sent, -1 to wait, -2 on an error. */
static gssize
client_send (Link *l)
{
  if (l->tls != NULL)
    {
      /* A send that had to wait is repeated without its data: GnuTLS holds the record. */
      gssize n = l->tls_pending > 0 ? gnutls_record_send (l->tls, NULL, 0)
                                    : gnutls_record_send (l->tls, l->out->data, MIN (l->out->len, 16384));

      if (n >= 0)
        {
          l->tls_pending = 0;
          return n;
        }
      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        {
          if (l->tls_pending == 0)
            l->tls_pending = MIN (l->out->len, 16384);
          return -1;
        }
      return -2;
    }
  else
    {
      gssize n = send (l->cfd, l->out->data, l->out->len, MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n >= 0)
        return n;
      return errno == EAGAIN || errno == EINTR ? -1 : -2;
    }
}

/* libmicrohttpd's end closed: it answered all it will. A refused request it did not answer
 * itself gets its refusal now. */
static void
mhd_ended (KhHttpGate *gate,
           Link       *l)
{
  guint answered;

  l->ended = g_get_monotonic_time ();
  g_mutex_lock (&gate->lock);
  answered = l->answered;
  g_mutex_unlock (&gate->lock);
  if (l->refusing && answered < l->refused_at)
    {
      gsize len;
      g_autofree char *text = kh_http_head_answer (&l->refusal, &len);

      append (&l->out, text, len);
    }
}

/* Moves what can move, until nothing more can without waiting. */
static void
pump (KhHttpGate *gate,
      Link       *l)
{
  gboolean progress;

  do
    {
      gssize n;

      progress = FALSE;
      if (l->tls != NULL && !l->handshaken)
        {
          int r = gnutls_handshake (l->tls);

          if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
            return;
          if (r < 0)
            {
              drop (gate, l);
              return;
            }
          l->handshaken = TRUE;
        }
      if (l->closing != 0)
        {
          char buf[4096];

          /* Lingering: read and drop until the client closes. */
          while ((n = client_recv (l, buf, sizeof buf)) > 0)
            ;
          if (n != -1)
            drop (gate, l);
          return;
        }

      /* From the client. */
      if (!l->client_eof && !l->refusing && (l->in == NULL || l->in->len < MAX_IN))
        {
          gsize have = l->in != NULL ? l->in->len : 0;
          char buf[16384];

          n = client_recv (l, buf, MIN (sizeof buf, MAX_IN - have));
          if (n == -2)
            {
              drop (gate, l);
              return;
            }
          if (n > 0)
            append (&l->in, buf, (gsize) n);
          else if (n == 0)
            l->client_eof = TRUE;
          progress |= n >= 0;
        }
      if (check_in (gate, l))
        progress = TRUE;
      if (g_hash_table_lookup (gate->all, l) == NULL)
        return;
      if (l->mfd >= 0 && l->ready > 0)
        {
          n = send (l->mfd, l->in->data, l->ready, MSG_DONTWAIT | MSG_NOSIGNAL);
          if (n > 0)
            {
              consume (&l->in, (gsize) n);
              l->ready -= (gsize) n;
              progress = TRUE;
            }
          else if (n < 0 && errno != EAGAIN && errno != EINTR)
            l->ready = 0;
        }
      if ((l->client_eof || l->refusing) && l->ready == 0 && !l->mhd_shut)
        {
          int queued = 0;

          if (l->mfd < 0 && l->ended == 0)
            {
              /* Gone before its first head came whole: nothing to answer. */
              drop (gate, l);
              return;
            }
          /* libmicrohttpd is told the end only once it has read every byte before it: a
           * short read makes it wait for the socket's next wake-up, and an end that came
           * with the bytes would wake nothing more (the answer of libmicrohttpd's reading
           * is a wake-up here, EPOLLOUT). */
          if (l->mfd >= 0 && (ioctl (l->mfd, SIOCOUTQ, &queued) < 0 || queued == 0))
            {
              shutdown (l->mfd, SHUT_WR);
              l->mhd_shut = TRUE;
            }
          else if (l->mfd < 0)
            l->mhd_shut = TRUE;
        }

      /* From libmicrohttpd. */
      if (l->mfd >= 0 && l->ended == 0 && (l->out == NULL || l->out->len < MAX_OUT))
        {
          char buf[MAX_OUT];
          gsize have = l->out != NULL ? l->out->len : 0;

          n = recv (l->mfd, buf, MAX_OUT - have, MSG_DONTWAIT);
          if (n > 0)
            append (&l->out, buf, (gsize) n);
          else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            mhd_ended (gate, l);
          progress |= n >= 0 || l->ended != 0;
        }
      if (l->out != NULL && l->out->len > 0)
        {
          n = client_send (l);
          if (n == -2)
            {
              drop (gate, l);
              return;
            }
          if (n > 0)
            {
              consume (&l->out, (gsize) n);
              progress = TRUE;
            }
        }

      /* All answered and sent: the client is told the end, then read until it closes, so
       * that closing with its bytes unread does not reset the connection before it read the
       * answer. */
      if (l->ended != 0 && l->out == NULL)
        {
          if (l->tls != NULL)
            gnutls_bye (l->tls, GNUTLS_SHUT_WR);
          shutdown (l->cfd, SHUT_WR);
          l->closing = g_get_monotonic_time ();
          gate->n_closing++;
          g_clear_pointer (&l->in, g_byte_array_unref);
          l->ready = 0;
          /* Those lingering are bounded too: past the bound, one is closed at once. */
          if (gate->n_closing > gate->hooks.max_waiting)
            {
              drop (gate, l);
              return;
            }
          progress = TRUE;
        }
    }
  while (progress);
}

void
kh_http_gate_answered (KhHttpGate *gate,
                       int         fd)
{
  Link *l;

  if (gate == NULL)
    return;
  g_mutex_lock (&gate->lock);
  l = g_hash_table_lookup (gate->by_mhd_fd, GINT_TO_POINTER (fd));
  if (l != NULL)
    l->answered++;
  g_mutex_unlock (&gate->lock);
}

static void
accept_all (KhHttpGate *gate)
{
  for (;;)
    {
      struct sockaddr_storage addr;
      socklen_t addr_len = sizeof addr;
      int fd;
      char *ticket = NULL;
      int one = 1;
      Link *l;

      fd = accept (gate->listen_fd, (struct sockaddr *) &addr, &addr_len);
      if (fd < 0)
        {
          /* Out of descriptors or memory: the listening socket stays readable, so wait a
           * little rather than spin. */
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            g_usleep (G_USEC_PER_SEC / 100);
          return;
        }
      fcntl (fd, F_SETFD, FD_CLOEXEC);
      fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
      /* Answers are written whole or in large pieces: the last piece of one must not wait
       * for the client's delayed acknowledgement of the one before (Nagle's algorithm). */
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (!gate->hooks.admit (gate->hooks.data, (struct sockaddr *) &addr, addr_len, &ticket))
        {
          close (fd);
          continue;
        }
      l = g_new0 (Link, 1);
      l->cfd = fd;
      l->mfd = -1;
      l->mhd_fd = -1;
      l->addr = addr;
      l->addr_len = addr_len;
      l->ticket = ticket;
      l->since = g_get_monotonic_time ();
      l->link.data = l;
      g_hash_table_add (gate->all, l);
      g_queue_push_tail_link (&gate->order, &l->link);
      gate->n_waiting++;
      if (gate->cred != NULL)
        {
          /* GNUTLS_NO_SIGNAL: GnuTLS sends with MSG_NOSIGNAL, as the gate's own sends do; a
           * client that hangs up while its answer is on the way must not end the server with
           * SIGPIPE (it did, under load, when a stop found such a connection). */
          if (gnutls_init (&l->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL) < 0
              || gnutls_priority_set (l->tls, gate->priority) < 0
              || gnutls_credentials_set (l->tls, GNUTLS_CRD_CERTIFICATE, gate->cred) < 0)
            {
              drop (gate, l);
              continue;
            }
          gnutls_transport_set_int (l->tls, fd);
        }
      watch (gate, l, fd);
      /* Full, the one waiting longest makes room: a request that arrives whole (a health
       * check, a login) is always taken, and handed on as soon as its head is read. */
      if (gate->n_waiting > gate->hooks.max_waiting)
        drop (gate, gate->order.head->data);
    }
}

static int
compare_since (gconstpointer a,
               gconstpointer b)
{
  const Link *x = *(Link * const *) a;
  const Link *y = *(Link * const *) b;

  return x->since < y->since ? -1 : x->since > y->since;
}

/* Closes those past their deadline, and past the limit the ones waiting longest. Once handed
 * on, a connection's deadlines are libmicrohttpd's and the watchdog's, which close its end. */
static void
sweep (KhHttpGate *gate)
{
  gint64 now = g_get_monotonic_time ();
  gint64 deadline = (gint64) gate->hooks.seconds * G_USEC_PER_SEC;
  g_autoptr(GPtrArray) over = g_ptr_array_new ();
  g_autoptr(GPtrArray) old = g_ptr_array_new ();
  g_autoptr(GPtrArray) ending = g_ptr_array_new ();
  GHashTableIter iter;
  Link *l;

  g_hash_table_iter_init (&iter, gate->all);
  while (g_hash_table_iter_next (&iter, (gpointer *) &l, NULL))
    {
      /* Should a wake-up have been missed, an end to pass on is tried again. */
      if (l->mfd >= 0 && !l->mhd_shut && (l->client_eof || l->refusing))
        g_ptr_array_add (ending, l);
      if (l->closing != 0 ? now - l->closing > LINGER
          : l->ended != 0 ? now - l->ended > deadline
          : l->mfd < 0 && now - l->since > deadline)
        g_ptr_array_add (over, l);
      else if (l->mfd < 0 && l->ended == 0 && now - l->since > SHED_AFTER)
        g_ptr_array_add (old, l);
    }
  for (guint i = 0; i < over->len; i++)
    drop (gate, over->pdata[i]);
  for (guint i = 0; i < ending->len; i++)
    if (g_hash_table_contains (gate->all, ending->pdata[i]))
      pump (gate, ending->pdata[i]);
  if (gate->n_waiting > gate->hooks.shed_above)
    {
      guint excess = gate->n_waiting - gate->hooks.shed_above;

      g_ptr_array_sort (old, compare_since);
      for (guint i = 0; i < MIN (excess, old->len); i++)
        drop (gate, old->pdata[i]);
    }
}

/* Whether every answer libmicrohttpd wrote has been sent on. */
static gboolean
all_sent (KhHttpGate *gate)
{
  GHashTableIter iter;
  Link *l;

  g_hash_table_iter_init (&iter, gate->all);
  while (g_hash_table_iter_next (&iter, (gpointer *) &l, NULL))
    {
      int unread = 0;

      if (l->closing == 0 && (l->out != NULL || (l->mfd >= 0 && ioctl (l->mfd, SIOCINQ, &unread) == 0 && unread > 0)))
        return FALSE;
    }
  return TRUE;
}

static gpointer
gate_thread (gpointer data)
{
  KhHttpGate *gate = data;
  struct epoll_event events[64];
  gint64 last_sweep = 0;
  gint64 stop_by = 0;

  for (;;)
    {
      int n = epoll_wait (gate->epoll_fd, events, G_N_ELEMENTS (events), stop_by != 0 ? 10 : 100);

      /* Stopping (the server drained its requests first): no one new is taken, and the
       * answers on their way are sent on, for a second at most. */
      if (stop_by != 0 && (all_sent (gate) || g_get_monotonic_time () > stop_by))
        return NULL;
      for (int i = 0; i < n; i++)
        {
          int fd = events[i].data.fd;
          Link *l;

          if (fd == gate->stop_fd)
            {
              epoll_ctl (gate->epoll_fd, EPOLL_CTL_DEL, gate->listen_fd, NULL);
              epoll_ctl (gate->epoll_fd, EPOLL_CTL_DEL, gate->stop_fd, NULL);
              stop_by = g_get_monotonic_time () + G_USEC_PER_SEC;
            }
          else if (fd == gate->listen_fd)
            accept_all (gate);
          else if ((l = g_hash_table_lookup (gate->links, GINT_TO_POINTER (fd))) != NULL)
            pump (gate, l);
        }
      if (g_get_monotonic_time () - last_sweep > G_USEC_PER_SEC / 10)
        {
          sweep (gate);
          last_sweep = g_get_monotonic_time ();
        }
    }
}

KhHttpGate *
kh_http_gate_start (int                    listen_fd,
                    const KhHttpGateHooks *hooks)
{
  KhHttpGate *gate = g_new0 (KhHttpGate, 1);
  struct epoll_event ev = { .events = EPOLLIN };

  if (hooks->tls_cert != NULL)
    {
      gnutls_datum_t cert = { (unsigned char *) hooks->tls_cert, (unsigned) strlen (hooks->tls_cert) };
      gnutls_datum_t key = { (unsigned char *) hooks->tls_key, (unsigned) strlen (hooks->tls_key) };

      if (gnutls_certificate_allocate_credentials (&gate->cred) < 0
          || gnutls_certificate_set_x509_key_mem (gate->cred, &cert, &key, GNUTLS_X509_FMT_PEM) < 0
          || gnutls_priority_init (&gate->priority, NULL, NULL) < 0)
        {
          if (gate->cred != NULL)
            gnutls_certificate_free_credentials (gate->cred);
          g_free (gate);
          return NULL;
        }
    }
  gate->hooks = *hooks;
  gate->hooks.tls_cert = gate->hooks.tls_key = NULL;
  gate->listen_fd = listen_fd;
  gate->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  gate->stop_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  gate->links = g_hash_table_new (g_direct_hash, g_direct_equal);
  gate->all = g_hash_table_new (g_direct_hash, g_direct_equal);
  gate->by_mhd_fd = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_mutex_init (&gate->lock);
  ev.data.fd = listen_fd;
  epoll_ctl (gate->epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
  ev.data.fd = gate->stop_fd;
  epoll_ctl (gate->epoll_fd, EPOLL_CTL_ADD, gate->stop_fd, &ev);
  gate->thread = g_thread_new ("kh-http-gate", gate_thread, gate);
  return gate;
}

void
kh_http_gate_stop (KhHttpGate *gate)
{
  guint64 one = 1;
  Link *l;

  if (gate == NULL)
    return;
  if (write (gate->stop_fd, &one, sizeof one) < 0)
    g_warning ("the gate's thread could not be told to stop: %s", g_strerror (errno));
  g_thread_join (gate->thread);
  while (g_hash_table_size (gate->all) > 0)
    {
      GHashTableIter iter;

      g_hash_table_iter_init (&iter, gate->all);
      g_hash_table_iter_next (&iter, (gpointer *) &l, NULL);
      drop (gate, l);
    }
  g_hash_table_unref (gate->links);
  g_hash_table_unref (gate->all);
  g_hash_table_unref (gate->by_mhd_fd);
  g_mutex_clear (&gate->lock);
  close (gate->listen_fd);
  close (gate->epoll_fd);
  close (gate->stop_fd);
  if (gate->cred != NULL)
    {
      gnutls_priority_deinit (gate->priority);
      gnutls_certificate_free_credentials (gate->cred);
    }
  g_free (gate);
}
