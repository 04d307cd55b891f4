// Figure 4: a script that imports the module and creates a session.
import { ArmorSession } from "../../mod.ts";

new ArmorSession();
