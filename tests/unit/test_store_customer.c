/* test_store_customer.c: the store's customer messages (store.h, "customer
 * messages") on the backend under test (test_db.h; store_pg.sh runs it on
 * PostgreSQL): a key claimed once, from any connection; the link to its
 * outbox row and the row's delivery read back; unsubscribes once; an
 * account's current contacts with their traits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "test_db.h"

static char dir[256];

static int dir_setup(void **state) {
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/tend-test-customer-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int dir_teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct store *open_at(const char *path) {
    struct store *s;
    char err[STORE_ERR_BYTES];
    if (test_db_open(path, &s, err))
        fail_msg("opening %s: %s", path, err);
    return s;
}

#define OK(x) assert_int_equal((x), TEND_OK)

struct got {
    char text[16][200];
    int n;
};

static void on_msg(void *arg, const struct store_customer_message *m) {
    struct got *g = arg;
    snprintf(g->text[g->n++], 200, "%s|%s|%lld|%s|%s|%s|%s|%lld", m->kind, m->ref,
             (long long)m->step, m->recipient ? m->recipient : "-", m->status,
             m->delivery ? m->delivery : "-", m->subject, (long long)(m->sent_ms > 0));
}

static void on_unsub(void *arg, const char *kind, const char *contact, int64_t ms) {
    struct got *g = arg;
    snprintf(g->text[g->n++], 200, "%s|%s|%lld", kind, contact, (long long)ms);
}

static void on_contact(void *arg, const char *email, const char *traits) {
    struct got *g = arg;
    snprintf(g->text[g->n++], 200, "%s|%s", email, strstr(traits, "billing") ? "billing" : "-");
}

static void test_customer_store(void **state) {
    (void)state;
    char path[320];
    snprintf(path, sizeof path, "%s/customer-%d.db", dir, (int)getpid());
    struct store *a = open_at(path), *b = open_at(path);
    int64_t acc, u1, u2, u3;
    bool created, started;
    OK(store_begin(a, NULL));
    OK(store_account_ensure(a, "acme", 1000, &acc, &created));
    OK(store_user_ensure(a, "u1", false, 1000, &u1));
    OK(store_user_ensure(a, "u2", false, 1000, &u2));
    OK(store_user_ensure(a, "u3", false, 1000, &u3));
    OK(store_user_set_fields(a, u1, "pay@acme.test", NULL, NULL, "{\"role\":\"billing\"}"));
    OK(store_user_set_fields(a, u2, "left@acme.test", NULL, NULL, "{}"));
    OK(store_user_set_fields(a, u3, NULL, NULL, NULL, "{}")); /* no email: not a contact */
    OK(store_membership_start(a, acc, u1, 1000, &started));
    OK(store_membership_start(a, acc, u2, 1000, &started));
    OK(store_membership_start(a, acc, u3, 1000, &started));
    OK(store_membership_end(a, acc, u2, 2000, &started));
    OK(store_commit(a));

    struct store_customer_message m = {.account_id = acc,
                                       .kind = "card_expiry",
                                       .ref = "2027-03 *4242",
                                       .step = 30,
                                       .day = 20000,
                                       .created_ms = 5000,
                                       .recipient = "pay@acme.test",
                                       .rule = "billing_user",
                                       .status = "queued",
                                       .subject = "Your card"};
    bool claimed;
    OK(store_begin(a, NULL));
    OK(store_customer_message_claim(a, &m, &claimed));
    assert_true(claimed);
    int64_t nid, oid;
    OK(store_notification_add(a, 0, "customer", 20000, 5000, "{\"customer\":{}}", &nid));
    struct store_outbox row = {.notification_id = nid,
                               .channel = "mail",
                               .target = "pay@acme.test",
                               .owner = "pay@acme.test",
                               .status = "pending",
                               .next_at_ms = 5000,
                               .created_ms = 5000};
    OK(store_outbox_add(a, &row, &oid));
    OK(store_customer_message_link(a, &m, nid));
    OK(store_commit(a));

    /* The same key again, from another connection (another node): not claimed. */
    OK(store_begin(b, NULL));
    m.created_ms = 6000;
    m.subject = "changed";
    OK(store_customer_message_claim(b, &m, &claimed));
    assert_false(claimed);
    m.step = 14; /* the next step is a key of its own */
    m.status = "unsubscribed";
    OK(store_customer_message_claim(b, &m, &claimed));
    assert_true(claimed);
    OK(store_commit(b));

    /* The row is sent: the message says so. */
    row.id = oid;
    row.status = "sent";
    row.sent_ms = 7000;
    row.next_at_ms = 7000;
    OK(store_begin(a, NULL));
    OK(store_outbox_set(a, &row));
    OK(store_commit(a));
    struct got g = {0};
    OK(store_customer_messages_each(b, acc, 10, on_msg, &g));
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[0],
                        "card_expiry|2027-03 *4242|14|pay@acme.test|unsubscribed|-|changed|0");
    assert_string_equal(g.text[1],
                        "card_expiry|2027-03 *4242|30|pay@acme.test|queued|sent|Your card|1");
    g.n = 0;
    OK(store_customer_messages_each(b, acc, 1, on_msg, &g)); /* the limit holds */
    assert_int_equal(g.n, 1);

    /* Unsubscribes: once per (account, kind, contact). */
    OK(store_begin(a, NULL));
    OK(store_customer_unsubscribe(a, acc, "card_expiry", "pay@acme.test", 8000));
    OK(store_customer_unsubscribe(a, acc, "card_expiry", "pay@acme.test", 9000));
    OK(store_customer_unsubscribe(a, acc, "renewal", "pay@acme.test", 9500));
    OK(store_commit(a));
    g.n = 0;
    OK(store_customer_unsubscribes_each(b, acc, on_unsub, &g));
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[0], "card_expiry|pay@acme.test|8000");
    assert_string_equal(g.text[1], "renewal|pay@acme.test|9500");

    /* Contacts: current members with an email, with their traits. */
    g.n = 0;
    OK(store_customer_contacts_each(b, acc, on_contact, &g));
    assert_int_equal(g.n, 1);
    assert_string_equal(g.text[0], "pay@acme.test|billing");
    store_close(a);
    store_close(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_customer_store),
    };
    return cmocka_run_group_tests(tests, dir_setup, dir_teardown);
}
