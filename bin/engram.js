#!/usr/bin/env node
import { main } from '../dist/engram.js';

main(process.argv);
