/*
 * preflight.fcgi: answers OPTIONS under the API: the CORS preflight verdict
 * from the policy's [cors] section, with an empty body. It never calls the
 * vault, so it needs no Key Vault client.
 */
#include "gateway.h"

/* Never called: the preflight program serves no GET route (kinds is 0), and
 * gateway.c answers OPTIONS itself. */
static void no_route(struct gateway *g, const struct gateway_request *req, struct response *r)
{
	(void)g;
	(void)req;
	response_error(r, 405, "MethodNotAllowed", "The method is not allowed.");
}

int main(int argc, char **argv)
{
	return gateway_main(argc, argv, "preflight", 0, 0, no_route);
}
