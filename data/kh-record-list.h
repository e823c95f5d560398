/* kh-record-list.h: a GListModel of an entity's records, paged from SQLite on demand
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-c/json.h>

#include "kh-record-item.h"
#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_RECORD_LIST (kh_record_list_get_type ())

G_DECLARE_FINAL_TYPE (KhRecordList, kh_record_list, KH, RECORD_LIST, GObject)

/* Rows fetched by one query, and how many pages the list keeps in memory. */
#define KH_RECORD_LIST_PAGE_SIZE 100
#define KH_RECORD_LIST_MAX_PAGES 24

KhRecordList   *kh_record_list_new             (KhStore       *store,
                                                const char    *entity);
KhStore        *kh_record_list_get_store       (KhRecordList  *self);
const KhEntity *kh_record_list_get_entity      (KhRecordList  *self);
void            kh_record_list_set_sort        (KhRecordList  *self,
                                                const char    *field,
                                                gboolean       descending);
const char     *kh_record_list_get_sort_field  (KhRecordList  *self);
gboolean        kh_record_list_get_descending  (KhRecordList  *self);
gboolean        kh_record_list_set_filter      (KhRecordList  *self,
                                                const char    *field,
                                                json_object   *value,
                                                GError       **error);
void            kh_record_list_clear_filters   (KhRecordList  *self);
void            kh_record_list_set_without_consent (KhRecordList *self,
                                                    gboolean      only);
void            kh_record_list_set_search      (KhRecordList  *self,
                                                const char    *text);
const char     *kh_record_list_get_search      (KhRecordList  *self);
void            kh_record_list_refresh         (KhRecordList  *self);
guint           kh_record_list_find            (KhRecordList  *self,
                                                const char    *id);
char           *kh_record_list_format          (KhRecordList  *self,
                                                KhRecordItem      *record,
                                                const char    *field);
const GError   *kh_record_list_get_error       (KhRecordList  *self);
guint           kh_record_list_get_n_cached    (KhRecordList  *self);
guint           kh_record_list_get_n_queries   (KhRecordList  *self);

G_END_DECLS
