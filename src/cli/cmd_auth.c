/* cmd_auth.c: tend passwd and tend token: credentials for tend serve's
 * serve: section (docs/dashboard.md).
 *
 *   tend passwd        reads a password, prints its argon2id hash
 *   tend token [NAME]  prints a new API token and the entry with its SHA-256
 *
 * Only hashes go into tend.yaml; the password and the token are not stored. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024

/* Reads one line from stdin into buf, without echo on a terminal. */
static bool read_secret(const char *prompt, char *buf, size_t size) {
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = fgets(buf, (int)size, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (ok)
        buf[strcspn(buf, "\r\n")] = '\0';
    return ok;
}

int cmd_passwd(int argc, char **argv) {
    if (argc > 1) {
        bool help = strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr,
                "Usage: tend passwd < password\n\n"
                "Reads a password (from the terminal without echo, twice, or one line of\n"
                "stdin) and prints its argon2id hash for serve.users[].password_hash.\n");
        return help ? 0 : EXIT_USAGE;
    }
    if (sodium_init() < 0)
        return cli_usage_error("passwd", "libsodium cannot start");
    char pw[PASSWORD_MAX], again[PASSWORD_MAX];
    if (!read_secret("Password: ", pw, sizeof pw))
        return cli_usage_error("passwd", "no password on stdin");
    if (isatty(STDIN_FILENO)) {
        if (!read_secret("Again: ", again, sizeof again) || strcmp(pw, again) != 0)
            return cli_usage_error("passwd", "the passwords differ");
    }
    if (strlen(pw) < PASSWORD_MIN)
        return cli_usage_error("passwd", "a password has at least %d characters", PASSWORD_MIN);
    char hash[crypto_pwhash_STRBYTES];
    int rc = crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                               crypto_pwhash_MEMLIMIT_INTERACTIVE);
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(again, sizeof again);
    if (rc)
        return cli_usage_error("passwd", "out of memory hashing the password");
    printf("%s\n", hash);
    return 0;
}

int cmd_token(int argc, char **argv) {
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr,
                "Usage: tend token [NAME]\n\n"
                "Prints a new random API token (send it as Authorization: Bearer TOKEN) and\n"
                "the serve.tokens entry with its SHA-256 for tend.yaml. The token itself is\n"
                "shown once and stored nowhere.\n");
        return help ? 0 : EXIT_USAGE;
    }
    if (sodium_init() < 0)
        return cli_usage_error("token", "libsodium cannot start");
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    char token[8 + 2 * sizeof raw + 1] = "tend_";
    sodium_bin2hex(token + 5, sizeof token - 5, raw, sizeof raw);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    char hex[2 * sizeof h + 1];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    printf("token: %s\n# in tend.yaml, under serve: tokens:\n  - name: %s\n    sha256: \"%s\"\n",
           token, argc == 2 ? argv[1] : "api", hex);
    return 0;
}
