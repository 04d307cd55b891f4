// Figure 4's comparator: a script that imports oauth4webapi (one file) and uses it once.
import * as oauth from "oauth4webapi";

oauth.ClientSecretPost("client-secret");
