/* test_keyfile.c: the session key file (util/keyfile.h) that sessions
 * (server/auth.c) and unsubscribe links (notify/unsub.c) both read: made
 * once, whole, by whichever process comes first; every other process, at
 * the same moment or later, reads the same 32 bytes, never a short file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify/unsub.h"

#define RACERS 6
#define ROUNDS 150

/* RACERS processes load the key of one fresh database path at once (a pipe
 * they all wait on starts them together); each must succeed, all alike. */
static void test_first_start_race(void **state) {
    (void)state;
    char dir[] = "/tmp/tend-keyfile-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int failed_rounds = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char db[128];
        snprintf(db, sizeof db, "%s/r%d.db", dir, round);
        int go[2], out[2];
        assert_int_equal(pipe(go), 0);
        assert_int_equal(pipe(out), 0);
        pid_t pids[RACERS];
        for (int i = 0; i < RACERS; i++) {
            pids[i] = fork();
            assert_true(pids[i] >= 0);
            if (pids[i] == 0) {
                close(go[1]);
                char c;
                (void)!read(go[0], &c, 1); /* EOF when the parent closes: all start */
                unsigned char key[UNSUB_KEY_BYTES + 1];
                char err[UNSUB_ERR_BYTES];
                key[0] = unsub_key_load(NULL, db, key + 1, err) == TEND_OK;
                (void)!write(out[1], key, sizeof key);
                _exit(0);
            }
        }
        close(go[0]);
        close(go[1]);
        close(out[1]);
        unsigned char first[UNSUB_KEY_BYTES + 1], k[UNSUB_KEY_BYTES + 1];
        bool bad = false;
        for (int i = 0; i < RACERS; i++) {
            size_t got = 0;
            while (got < sizeof k) {
                ssize_t n = read(out[0], k + got, sizeof k - got);
                assert_true(n > 0);
                got += (size_t)n;
            }
            if (i == 0)
                memcpy(first, k, sizeof k);
            bad |= !k[0] || memcmp(first, k, sizeof k) != 0;
        }
        close(out[0]);
        for (int i = 0; i < RACERS; i++)
            waitpid(pids[i], NULL, 0);
        failed_rounds += bad;
        char key_path[160];
        snprintf(key_path, sizeof key_path, "%s.session-key", db);
        unlink(key_path);
    }
    rmdir(dir);
    printf("ok: %d rounds of %d processes starting at once, %d with a failed or different key\n",
           ROUNDS, RACERS, failed_rounds);
    assert_int_equal(failed_rounds, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_start_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
