/*
 * fcgi-floor.c: the FastCGI floor for `make bench`. The least a libfcgi
 * responder can do: accept a request, answer a tiny JSON body with the
 * headers every kvgate answer carries (see response_format() in
 * lib/response.c), and loop. It reads no policy and calls no vault, so its
 * requests/s behind the same lighttpd, with the same process count, is the
 * ceiling the kvgate programs are measured against. Not installed; built
 * as build/bench/fcgi-floor.
 */
#include <signal.h>
#include <string.h>

#include <fcgiapp.h>

/* A body about the size of a small SecretBundle's first line. */
static const char floor_answer[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Content-Length: 17\r\n"
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Vary: Origin\r\n"
    "\r\n"
    "{\"value\":\"floor\"}";

static volatile sig_atomic_t stopping;

/* SIGTERM (how lighttpd retires a backend) ends the loop, as in kvgate's
 * programs: installed without SA_RESTART so that a blocked accept returns. */
static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(void)
{
	struct sigaction sa;
	FCGX_Request req;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		return 1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return 1;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		return 1;
	while (!stopping && FCGX_Accept_r(&req) >= 0) {
		FCGX_PutStr(floor_answer, (int)sizeof(floor_answer) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	return 0;
}
