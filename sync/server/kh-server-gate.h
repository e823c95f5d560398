/* kh-server-gate.h: request heads read before libmicrohttpd takes a connection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sys/socket.h>

#include "kh-codec.h"

G_BEGIN_DECLS

/* The longest URL (path and query) and request headers the server takes: longer ones are
 * refused, 414 and 431, in JSON. */
#define KH_HTTP_MAX_URL     8192
#define KH_HTTP_MAX_HEADERS (32 * 1024)

typedef enum
{
  KH_HEAD_INCOMPLETE,  /* more bytes are needed to tell */
  KH_HEAD_PASS,        /* a head libmicrohttpd reads as it should */
  KH_HEAD_REFUSE,      /* answered with the refusal below */
} KhHeadVerdict;

typedef struct
{
  guint        status;   /* HTTP status */
  KhSyncError  code;
  const char  *message;  /* translated, static */
} KhHeadRefusal;

/* Checks the first @len bytes a connection sent, the head of its first request. */
KhHeadVerdict kh_http_head_check (const char    *buf,
                                  gsize          len,
                                  KhHeadRefusal *refusal);

/* The whole HTTP answer of @refusal, with its JSON error body; the connection is closed after. */
char         *kh_http_head_answer (const KhHeadRefusal *refusal,
                                   gsize               *len);

/* What the gate asks of the HTTP front. admit: whether a new connection from @addr may wait
 * for its head, *ticket being what release() is given when it stops waiting (it is handed on,
 * refused or closed). hand: gives the socket, its head whole and valid, to libmicrohttpd. */
typedef struct
{
  gboolean (*admit)   (gpointer               data,
                       const struct sockaddr *addr,
                       socklen_t              addr_len,
                       char                 **ticket);
  void     (*release) (gpointer               data,
                       char                  *ticket);
  void     (*hand)    (gpointer               data,
                       int                    fd,
                       const struct sockaddr *addr,
                       socklen_t              addr_len);
  gpointer   data;
  guint      max_waiting;   /* connections waiting for their head, at most */
  guint      shed_above;    /* above this many, the ones waiting longest make room */
  int        seconds;       /* a head's deadline from the connection's accept */
} KhHttpGateHooks;

typedef struct _KhHttpGate KhHttpGate;

/* Binds and listens on @addr (port 0: a free one); -1 with errno set when it cannot. */
int         kh_http_gate_listen (const struct sockaddr *addr,
                                 socklen_t              addr_len);
/* Takes @listen_fd and accepts on it in a thread of its own. */
KhHttpGate *kh_http_gate_start  (int                    listen_fd,
                                 const KhHttpGateHooks *hooks);
void        kh_http_gate_stop   (KhHttpGate            *gate);

G_END_DECLS
