-- 专家身份证号 (for 专家劳务费 and contracts): SM4-encrypted at rest like phone numbers and e-mail,
-- shown in full only to the 科技局 and the expert's own institution.
ALTER TABLE experts ADD COLUMN id_number TEXT NOT NULL DEFAULT '';
