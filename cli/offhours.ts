import { DEFAULT_AGENT_PORT } from "../protocol/index.js"; import {z} from "zod"; console.log(DEFAULT_AGENT_PORT, z)
