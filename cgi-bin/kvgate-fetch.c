/*
 * kvgate-fetch: makes the programs' HTTP calls (to the vault and the
 * identity endpoints) so that they never load libcurl. Started by the
 * first program that needs it, with the name of its socket; leaves once
 * no program has been connected for a few seconds. See lib/fetch.h.
 */
#include "fetch.h"

int main(int argc, char **argv)
{
	return fetchd_main(argc == 2 ? argv[1] : NULL);
}
