/* kh-fault-proxy.h: a TCP proxy between the engine and the server that breaks things on purpose
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  KH_FAULT_NONE,
  KH_FAULT_RESET_BEFORE,   /* the connection is reset before the request reaches the server */
  KH_FAULT_RESET_AFTER,    /* the server handles the request; the answer is lost */
  KH_FAULT_TRUNCATE,       /* half of the answer arrives, then the connection closes */
  KH_FAULT_DELAY,          /* the answer comes 300 ms late */
  KH_FAULT_STALL,          /* a few bytes of the answer, then nothing for longer than the client waits */
  KH_FAULT_500,            /* 500 internal, the server never sees the request */
  KH_FAULT_503,            /* 503 busy with Retry-After: 1 */
  KH_FAULT_TWICE,          /* the request is delivered to the server twice */
  /* Not among the random faults (which keep their sequence for a seed): */
  KH_FAULT_CUT_REQUEST,    /* the request reaches the server cut at a random byte, then a reset */
  KH_FAULT_CUT_ANSWER,     /* the answer arrives cut at a random byte, then a reset */
  KH_N_FAULTS
} KhFault;

typedef struct _KhFaultProxy KhFaultProxy;

KhFaultProxy *kh_fault_proxy_new        (int            upstream_port,
                                         guint32        seed);
void          kh_fault_proxy_free       (KhFaultProxy  *proxy);
int           kh_fault_proxy_get_port   (KhFaultProxy  *proxy);
/* The next @times requests whose first line starts with @prefix ("POST /v1/push", or NULL for
 * any) get @fault; @times < 0: all of them. */
void          kh_fault_proxy_set_fault  (KhFaultProxy  *proxy,
                                         KhFault        fault,
                                         const char    *prefix,
                                         int            times);
/* Requests starting with @prefix are answered with @raw (a whole HTTP response) instead of the
 * server's; NULL stops it. */
void          kh_fault_proxy_set_answer (KhFaultProxy  *proxy,
                                         const char    *prefix,
                                         GBytes        *raw);
/* Each request gets a random fault with probability @p (0 turns random faults off). */
void          kh_fault_proxy_set_random (KhFaultProxy  *proxy,
                                         double         p);
guint         kh_fault_proxy_get_count  (KhFaultProxy  *proxy,
                                         KhFault        fault);
const char   *kh_fault_name             (KhFault        fault);
/* A slow link: each way at most @bytes_per_second (0: as fast as it goes), and @latency_ms
 * before each request goes on and before each answer comes back. */
void          kh_fault_proxy_set_link   (KhFaultProxy  *proxy,
                                         guint          bytes_per_second,
                                         guint          latency_ms);
/* The bytes of requests the link carried towards the server (a cut request: up to the cut). */
guint64       kh_fault_proxy_get_bytes_up (KhFaultProxy *proxy);

G_END_DECLS
