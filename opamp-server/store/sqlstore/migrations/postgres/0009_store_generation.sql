-- A counter that every deployment write increments in its transaction: a
-- replica compares it with the one it loaded to know, with one cheap read,
-- whether it missed a change (its safety net beside the notifications).
CREATE TABLE store_generation (
    id         INTEGER PRIMARY KEY,
    generation BIGINT NOT NULL
);
INSERT INTO store_generation (id, generation) VALUES (1, 0);
